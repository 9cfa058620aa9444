"""The web desk's pages over a seeded year: the integrity check and a filtered download as
background jobs, a petition's whole file and its answer with a file, the denunciation's
secrecy, the yearly report with its charts and workbook."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import col, select

from bot import web_desk
from bot.engine import Engine
from bot.services import roles
from bot.services.petition_statuses import ANSWERED, DENUNCIATION, FEEDBACK, OPEN
from bot.web import build_web_app
from storage.db import Database
from storage.models import InteractionLog, OutboxMessage, Petition
from tests.conftest import PSEUDONYM_KEY, Clock
from tests.desk_client import Desk, finish, get, signed_in, start_job
from tests.loopback import serve
from tests.public_seed import NOW, TZ, seed_year


@pytest.fixture
async def desk(db: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    """The desk over a year of the demo commune (six petitions a month)."""
    Clock(NOW)
    await seed_year(db, per_month=6)
    app = build_web_app(db)
    runner, url = await serve(app)
    app.router._frozen = False  # routes need the URL, known only once served
    app.router.add_routes(web_desk.routes(db, timezone=TZ, data_dir=tmp_path,
                                          key=PSEUDONYM_KEY, base_url=url))
    yield Desk(db, url, Engine(db, pseudonym_key=PSEUDONYM_KEY, web_base_url=url), tmp_path)
    await runner.cleanup()


async def test_the_integrity_check_runs_in_the_background_and_tells_a_broken_chain(desk: Desk):
    http, csrf = await signed_in(desk)
    async with http:
        job = await start_job(http, desk.url + "/ban-lam-viec/nhat-ky/kiem-tra", {"csrf": csrf})
        page = await finish(http, job)
        assert 'data-result="ok"' in page and "Nhật ký toàn vẹn" in page
        log = (await get(http, desk.url + "/ban-lam-viec/nhat-ky"))[1]
        assert "Lần kiểm tra gần nhất" in log and "Đã niêm phong đến dòng" in log
        async with desk.db.session() as session:
            row = (await session.exec(select(InteractionLog).where(
                col(InteractionLog.chain_seq).is_not(None)).limit(1))).one()
            row.kind = "edited"
            session.add(row)
            await session.commit()
        job = await start_job(http, desk.url + "/ban-lam-viec/nhat-ky/kiem-tra", {"csrf": csrf})
        page = await finish(http, job)
        assert 'data-result="bad"' in page and f"row {row.id}" in page


async def test_a_download_holds_exactly_the_filtered_rows(desk: Desk):
    http, csrf = await signed_in(desk)
    async with http:
        await get(http, desk.url + "/ban-lam-viec/nhat-ky")
        job = await start_job(http, desk.url + "/ban-lam-viec/nhat-ky/tai-ve",
                              {"csrf": csrf, "kind": "web_sign_in", "fmt": "csv"})
        page = await finish(http, job)
        link = re.search(r'href="([^"]+/tep)"', page)[1]
        async with http.get(desk.url + link) as answer:
            assert answer.status == 200
            rows = list(csv.reader(io.StringIO((await answer.read()).decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][8] == "web_sign_in"
    async with aiohttp.ClientSession() as stranger:  # the file is only for its owner
        assert (await get(stranger, desk.url + link))[0] == 403


async def test_a_petition_is_answered_with_a_file_from_its_page(desk: Desk):
    async with desk.db.session() as session:
        petition = (await session.exec(select(Petition).where(
            Petition.kind == FEEDBACK, col(Petition.status).in_(OPEN)))).first()
        waiting = len((await session.exec(select(OutboxMessage))).all())
    http, csrf = await signed_in(desk)
    async with http:
        queue = (await get(http, desk.url + "/ban-lam-viec/phan-anh"))[1]
        assert petition.code in queue
        status, page = await get(http, f"{desk.url}/ban-lam-viec/phan-anh/{petition.id}")
        assert status == 200 and petition.description in page and "Trả lời" in page
        form = aiohttp.FormData()
        form.add_field("csrf", csrf)
        form.add_field("text", "UBND xã đã sửa đèn đường.")
        scan = b"%PDF-1.4 bien ban " + b"0" * 2_000_000  # past the server's 1 MiB body limit
        form.add_field("files", io.BytesIO(scan), filename="bien-ban.pdf",
                       content_type="application/pdf")
        async with http.post(f"{desk.url}/ban-lam-viec/phan-anh/{petition.id}/answer",
                             data=form) as answer:
            assert answer.status == 200 and "Đã xong." in await answer.text()
    async with desk.db.session() as session:
        done = await session.get(Petition, petition.id)
        logged = (await session.exec(select(InteractionLog).where(
            InteractionLog.kind == "web_petition_answer"))).one()
        notices = (await session.exec(select(OutboxMessage))).all()
    assert done.status == ANSWERED and done.answer == "UBND xã đã sửa đèn đường."
    assert [(f["name"], f["size"]) for f in done.answer_files] == [("bien-ban.pdf", len(scan))]
    assert (desk.data_dir / done.answer_files[0]["ref"]).read_bytes() == scan
    assert logged.actor == "console:canbo" and logged.text == petition.code
    assert len(notices) == waiting + 1  # the answer, on its way to the resident


async def test_a_denunciation_is_secret_but_for_the_investigator(desk: Desk):
    async with desk.db.session() as session:
        petition = (await session.exec(select(Petition).where(
            Petition.kind == DENUNCIATION))).first()
    http, _csrf = await signed_in(desk)
    async with http:
        page = (await get(http, f"{desk.url}/ban-lam-viec/phan-anh/{petition.id}"))[1]
    assert petition.description not in page and "Kỳ Lừa" not in page
    async with desk.db.session() as session:
        await roles.grant(session, "console", "canbo", "investigator", actor="test")
        await session.commit()
    http, _csrf = await signed_in(desk)
    async with http:
        page = (await get(http, f"{desk.url}/ban-lam-viec/phan-anh/{petition.id}"))[1]
    assert petition.description in page and "Kỳ Lừa" in page
    async with desk.db.session() as session:
        viewed = (await session.exec(select(InteractionLog).where(
            InteractionLog.kind == "web_identity_view"))).all()
    assert [v.text for v in viewed] == [petition.code]


async def test_the_report_shows_the_year_and_makes_the_workbook(desk: Desk):
    http, csrf = await signed_in(desk)
    async with http:
        status, page = await get(http, desk.url + "/ban-lam-viec/bao-cao")
        assert status == 200 and "Báo cáo năm 2026" in page
        assert page.count("<svg") == 4 and 'data-chart="petitions-hamlet"' in page
        job = await start_job(http, desk.url + "/ban-lam-viec/bao-cao/tai-ve",
                              {"csrf": csrf, "nam": "2026", "what": "workbook"})
        page = await finish(http, job)
        link = re.search(r'href="([^"]+/tep)"', page)[1]
        async with http.get(desk.url + link) as answer:
            assert (await answer.read()).startswith(b"PK")  # a zip: the xlsx
