"""Slow work started from a desk page (the integrity check, exports) on a worker thread
(bot.services.offload), with its progress for the page that follows it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

KEEP = 50  # finished jobs remembered (their files stay in the data folder until replaced)


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
    task: asyncio.Task | None = field(default=None, repr=False)

    @property
    def percent(self) -> int:
        """How far, 0-100 (0 while the total is unknown)."""
        return min(100, self.done * 100 // self.total) if self.total else 0


class Jobs:
    """The desk's jobs, by an unguessable id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def start(self, job: Job, work: Callable[[Job], Awaitable[None]]) -> str:
        """Run `work(job)` in the background; returns the job's id."""
        key = secrets.token_urlsafe(12)
        self._jobs[key] = job

        async def run() -> None:
            try:
                await work(job)
            except Exception as exc:  # shown to the staff member; the log keeps no trace
                job.ok, job.message = False, type(exc).__name__
            finally:
                job.finished = True

        job.task = asyncio.get_running_loop().create_task(run())
        finished = [k for k, j in self._jobs.items() if j.finished]
        for old in finished[:-KEEP]:
            self._jobs.pop(old, None)
        return key

    def of(self, key: str, owner: str) -> Job | None:
        """The job if it exists and belongs to `owner`."""
        job = self._jobs.get(key)
        return job if job is not None and job.owner == owner else None
