"""The web desk's jobs with several processes behind one load balancer: a job's page and its
file answer on a process other than the one that runs it (progress kept in `desk_jobs`), and
a job whose process stopped says so instead of "not found" or a bar that never moves."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from sqlmodel import select

from bot import web_desk
from bot.web import build_web_app
from bot.web_desk import jobs as desk_jobs
from bot.web_desk.jobs import Job, Jobs
from storage import clock
from storage.models import DeskJob
from tests.conftest import PSEUDONYM_KEY
from tests.desk_client import Desk, desk_server, finish, get, signed_in, start_job  # noqa: F401
from tests.loopback import serve


@pytest.fixture
async def other(desk: Desk) -> AsyncIterator[str]:
    """A second process's desk over the same database and data folder: its own memory
    (its own jobs), its own port; the browser's cookie works on both."""
    app = build_web_app(desk.db)
    runner, url = await serve(app)
    app.router._frozen = False
    app.router.add_routes(web_desk.routes(desk.db, timezone="Asia/Ho_Chi_Minh",
                                          data_dir=desk.data_dir, key=PSEUDONYM_KEY,
                                          base_url=url))
    yield url
    await runner.cleanup()


async def test_a_download_made_on_one_process_is_shown_and_served_by_another(desk: Desk,
                                                                            other: str):
    http, csrf = await signed_in(desk)
    async with http:
        job = await start_job(http, desk.url + "/ban-lam-viec/nhat-ky/tai-ve",
                              {"csrf": csrf, "kind": "web_sign_in", "fmt": "csv"})
        await finish(http, job)
        page = await finish(http, job.replace(desk.url, other))  # the balancer's other pick
        assert 'data-result="ok"' in page and "1 dòng" in page
        link = re.search(r'href="([^"]+/tep)"', page)[1]
        async with http.get(other + link) as answer:
            assert answer.status == 200
            rows = list(csv.reader(io.StringIO((await answer.read()).decode("utf-8-sig"))))
        assert len(rows) == 2 and rows[1][8] == "web_sign_in"
    async with aiohttp.ClientSession() as stranger:  # still only for its owner
        assert (await get(stranger, other + link))[0] == 403
    async with desk.db.session() as session:
        row = (await session.exec(select(DeskJob))).one()
    assert row.finished and row.ok and row.file.startswith("desk-exports/")
    assert job.rsplit("/", 1)[1] not in str(row.model_dump())  # only the id's digest


async def test_a_running_job_shows_its_progress_on_another_process(desk: Desk,
                                                                  monkeypatch: pytest.MonkeyPatch):
    if desk.db.is_sqlite:
        pytest.skip("SQLite serves one process: there a job's page is on the process running it")
    monkeypatch.setattr(desk_jobs, "BEAT", 0.05)
    running, elsewhere = Jobs(desk.db, desk.data_dir), Jobs(desk.db, desk.data_dir)
    gate = asyncio.Event()

    async def work(job: Job) -> None:
        job.total, job.done = 10, 3
        await gate.wait()
        job.done, job.message = 10, "xong"

    job = Job("telegram:1", "Tải nhật ký")
    key = await running.start(job, work)
    for _ in range(100):
        seen = await elsewhere.of(key, "telegram:1")
        if seen is not None and seen.done == 3:
            break
        await asyncio.sleep(0.02)
    assert (seen.done, seen.total, seen.finished, seen.percent) == (3, 10, False, 30)
    assert await elsewhere.of(key, "telegram:2") is None  # someone else's job
    gate.set()
    await job.task
    seen = await elsewhere.of(key, "telegram:1")
    assert (seen.done, seen.finished, seen.ok, seen.message) == (10, True, True, "xong")


async def test_a_job_whose_process_stopped_says_so(desk: Desk, other: str):
    http, _csrf = await signed_in(desk)
    key = "a-job-of-a-stopped-process"
    async with desk.db.unit_of_work() as session:
        session.add(DeskJob(key_hash=hashlib.sha256(key.encode()).hexdigest(),
                            owner="console:canbo", title="Tải nhật ký tương tác", done=40,
                            total=100, updated_at=clock.now() - timedelta(minutes=1)))
        await session.commit()
    async with http:
        async with http.get(f"{other}/ban-lam-viec/viec/{key}?json=1") as answer:
            assert await answer.json() == {"done": 40, "total": 100, "finished": True,
                                           "ok": False}
        page = (await get(http, f"{other}/ban-lam-viec/viec/{key}"))[1]
        assert 'data-result="bad"' in page
        assert "Việc này dừng giữa chừng vì máy chủ vừa khởi động lại" in page
        assert (await get(http, f"{other}/ban-lam-viec/viec/{key}/tep"))[0] == 404
        assert (await get(http, f"{other}/ban-lam-viec/viec/no-such-job"))[0] == 404
