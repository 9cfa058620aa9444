"""Slow work started from a desk page (the integrity check, exports) on a worker thread
(bot.services.offload), with its progress for the page that follows it.

The work runs in the process that took the request; its progress and result are kept in
`desk_jobs`, so that with several processes behind a load balancer the job's page and its
download answer on whichever process the browser reaches. The running process renews its
row every BEAT seconds on PostgreSQL; a row left unfinished and not renewed for STALE (its
process stopped) reads as interrupted. SQLite serves one process, so a job there is
interrupted as soon as no process holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, delete, select, update

from storage import clock
from storage.db import Database
from storage.models import DeskJob

log = logging.getLogger(__name__)

BEAT = 1.0  # seconds between two writes of a running job's progress (PostgreSQL)
STALE = timedelta(seconds=30)  # an unfinished row not renewed this long: its process is gone
KEEP = timedelta(days=7)  # job rows kept this long (their files stay until replaced)


@dataclass
class Job:
    """One piece of slow work and how far it got."""

    owner: str  # the identity that started it: only they see it
    title: str
    done: int = 0
    total: int = 0
    finished: bool = False
    ok: bool = True
    message: str = ""
    file: Path | None = None
    filename: str = ""
    back: str = ""  # the page the job was started from
    interrupted: bool = False  # its process stopped before it finished
    task: asyncio.Task | None = field(default=None, repr=False)

    @property
    def percent(self) -> int:
        """How far, 0-100 (0 while the total is unknown)."""
        return min(100, self.done * 100 // self.total) if self.total else 0


class Jobs:
    """The desk's jobs, by an unguessable id: those this process runs in memory, all of
    them in the database."""

    def __init__(self, db: Database, data_dir: Path) -> None:
        self.db, self.data_dir = db, data_dir
        self._running: dict[str, Job] = {}

    async def start(self, job: Job, work: Callable[[Job], Awaitable[None]]) -> str:
        """Record the job, run `work(job)` in the background; returns the job's id."""
        key = secrets.token_urlsafe(12)
        now = clock.now()
        async with self.db.unit_of_work() as session:
            await session.exec(delete(DeskJob).where(col(DeskJob.started_at) < now - KEEP))
            session.add(DeskJob(key_hash=_digest(key), owner=job.owner, title=job.title[:200],
                                file=self._stored_path(job.file), filename=job.filename[:200],
                                back=job.back[:1000], started_at=now, updated_at=now))
            await session.commit()
        self._running[key] = job

        async def run() -> None:
            beat = (None if self.db.is_sqlite
                    else asyncio.get_running_loop().create_task(self._renew(key, job)))
            try:
                await work(job)
            except Exception as exc:  # shown to the staff member; the log keeps no trace
                job.ok, job.message = False, type(exc).__name__
            finally:
                job.finished = True
                if beat is not None:
                    beat.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await beat
                await self._save(key, job)
                self._running.pop(key, None)

        job.task = asyncio.get_running_loop().create_task(run())
        return key

    async def of(self, key: str, owner: str) -> Job | None:
        """The job if it exists and belongs to `owner`."""
        job = self._running.get(key)  # run here: fresher than its row
        if job is None:
            job = await self._read(key)
        return job if job is not None and job.owner == owner else None

    async def _read(self, key: str) -> Job | None:
        async with self.db.session() as session:
            row = (await session.exec(
                select(DeskJob).where(DeskJob.key_hash == _digest(key)))).first()
        if row is None:
            return None
        job = Job(owner=row.owner, title=row.title, done=row.done, total=row.total,
                  finished=row.finished, ok=row.ok, message=row.message,
                  file=self._path(row.file), filename=row.filename, back=row.back)
        if not job.finished and (self.db.is_sqlite or clock.now() - row.updated_at > STALE):
            job.finished, job.ok, job.interrupted = True, False, True
        return job

    async def _renew(self, key: str, job: Job) -> None:
        while True:
            await asyncio.sleep(BEAT)
            await self._save(key, job)

    async def _save(self, key: str, job: Job) -> None:
        """Write the job's progress (and result, once finished); a failure is logged and
        the next beat tries again."""
        try:
            async with self.db.unit_of_work() as session:
                await session.exec(update(DeskJob).where(DeskJob.key_hash == _digest(key))
                                   .values(done=job.done, total=job.total,
                                           finished=job.finished, ok=job.ok,
                                           message=job.message[:2000], updated_at=clock.now()))
                await session.commit()
        except Exception:
            log.exception("could not record a desk job's progress")

    def _stored_path(self, path: Path | None) -> str:
        if path is None:
            return ""
        with contextlib.suppress(ValueError):  # inside the data folder: shared by processes
            return str(path.relative_to(self.data_dir))
        return str(path)

    def _path(self, stored: str) -> Path | None:
        return (self.data_dir / stored) if stored else None


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
