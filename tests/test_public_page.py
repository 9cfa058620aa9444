"""The public page of the commune's record: the yearly report's figures, every page in both
languages, no personal data anywhere, the publication rule, and the PUBLIC_PAGE setting."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot import public_page, server
from bot.app import build
from bot.config import Settings
from bot.services import disclosures, yearly_report
from bot.services.public_record import is_public
from bot.services.public_text import masked
from bot.web import build_web_app
from storage.db import Database
from storage.models import Petition
from tests.conftest import Clock
from tests.fake_telegram import FakeTelegram
from tests.loopback import serve
from tests.public_seed import NAMES, NOW, TZ, personal_data, seed_year
from tests.test_web import _free_port, _until

PAGES = ("/", "/cong-khai/phan-anh", "/cong-khai/thong-tin", "/cong-khai/thong-tin?q=ngân+sách",
         "/cong-khai/thong-tin?quy=2026Q3", "/cong-khai/doi-thoai",
         "/cong-khai/thong-tin/2026Q4.csv")


@pytest.fixture
async def site(db: Database, tmp_path: Path) -> AsyncIterator[str]:
    """The public page on loopback over a seeded year (clock at NOW)."""
    Clock(NOW)
    await seed_year(db)
    app = build_web_app(db, dict, public_page.routes(db, timezone=TZ, data_dir=tmp_path))
    runner, url = await serve(app)
    yield url
    await runner.cleanup()


async def _get(url: str, **kw: object) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, **kw) as resp:
        return resp.status, await resp.text()


def _figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="([\w-]+)" data-value="([^"]*)"', html))


def _chart(html: str, key: str) -> list[int]:
    svg = re.search(rf'data-chart="{key}".*?</svg>', html, re.S)
    assert svg, key
    return [int(v) for v in re.findall(r'class="bar"[^>]*data-value="(\d+)"', svg.group(0))]


async def _codes(db: Database) -> list[Petition]:
    async with db.session() as session:
        from sqlmodel import select
        return list((await session.exec(select(Petition).order_by(Petition.id))).all())


async def test_the_page_shows_the_yearly_reports_figures(site, db):
    async with db.session() as session:
        year = await yearly_report.compute(session, 2026, TZ, now=NOW)
    status, html = await _get(site + "/")
    assert status == 200
    figures = _figures(html)
    assert year.petitions > 40 and year.answered > 10 and year.ratings
    assert figures["year-received"] == str(year.petitions)
    assert figures["year-answered"] == str(year.answered)
    assert figures["year-on_time"] == str(year.answered_in_time)
    assert year.answered_in_time < year.answered  # the seed has late answers
    assert figures["year-median_days"] == str(year.median_days)
    assert figures["year-p90_days"] == str(year.p90_days)
    assert figures["year-rating"] == str(year.average_rating)
    assert figures["month-received"] == str(year.petitions_by_month[11])
    assert _chart(html, "by-month") == [year.petitions_by_month.get(m, 0) for m in range(1, 13)]
    assert sorted(_chart(html, "by-field")) == sorted(year.petitions_by_field.values())
    assert sorted(_chart(html, "by-hamlet")) == sorted(year.petitions_by_hamlet.values())
    assert "Cập nhật lúc 10:00, thứ Tư, 25/11/2026" in html
    assert "Tháng này (11/2026)" in html and "Năm nay (2026, đến 25/11/2026)" in html
    assert "UBND xã Chi Lăng" in html and "0205 3820 000" in html
    assert "Đang xác minh, xử lý" in html and "30/01/2026 · quá hạn" in html  # open feedback
    status, html = await _get(site + "/cong-khai/doi-thoai")
    assert _figures(html)["sessions-held"] == str(year.sessions_held) == "1"
    assert "Đối thoại về đường liên thôn" in html and "Chỗ còn trống" in html


async def test_every_page_renders_in_both_languages(site, db):
    for path in PAGES:
        for lang in ("vi", "en"):
            status, body = await _get(site + path, params={"lang": lang})
            assert status == 200, (path, lang)
            assert body.strip(), (path, lang)
    status, csv = await _get(site + "/cong-khai/thong-tin/2026Q4.csv")
    assert csv.splitlines()[0].startswith("\ufeffSTT,")
    status, english = await _get(site + "/", params={"lang": "en"})
    assert "People's Committee of Chi Lăng Commune" in html.unescape(english)
    assert "Updated at Wednesday 25 November 2026, 10:00" in english


async def test_the_language_switch_is_remembered(site):
    jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies of an IP address like a browser
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(site + "/cong-khai/doi-thoai?lang=en") as resp:
            assert "Dialogue sessions" in await resp.text()
        async with http.get(site + "/") as resp:  # the cookie keeps English
            html = await resp.text()
            assert "Feedback and petitions" in html and 'href="/?lang=vi"' in html
        async with http.get(site + "/?lang=vi") as resp:
            assert "Phản ánh, kiến nghị" in await resp.text()


async def test_a_petition_is_public_only_as_named_feedback(site, db):
    petitions = await _codes(db)
    shown = [p for p in petitions if is_public(p)]
    hidden = [p for p in petitions if not is_public(p)]
    assert {p.kind for p in hidden} == {"feedback", "complaint", "denunciation"}
    answered = next(p for p in shown if p.answer)
    status, html = await _get(site + f"/cong-khai/phan-anh/{answered.code}")
    assert status == 200 and masked(answered.answer) in html
    assert "cán bộ đã gọi lại số *** để báo" in html  # the phone in the answer is masked
    assert "Lịch sử xử lý" in html and "Đã trả lời" in html
    for petition in hidden:
        status, html = await _get(site + f"/cong-khai/phan-anh/{petition.code}")
        assert status == 404 and "Không có phản ánh, kiến nghị công khai" in html
    status, html = await _get(site + "/cong-khai/tra-cuu",
                              params={"ma": answered.code.lower()}, allow_redirects=True)
    assert status == 200 and masked(answered.answer) in html


@pytest.mark.parametrize(("written", "shown"), [
    ("Gọi 0912 345 678 nhé", "Gọi *** nhé"), ("số +84 912.345.678.", "số ***."),
    ("(0205) 3820 000", "***"), ("an.nguyen@gmail.com", "***"), ("CCCD 001203004005", "CCCD ***"),
    ("Kinh phí 1.234.567.890 đồng", "Kinh phí 1.234.567.890 đồng"),
    ("Ngày 02/12/2026 lúc 07:30, km 12+500", "Ngày 02/12/2026 lúc 07:30, km 12+500"),
    ("PA-2026-000123, QĐ số 0123/QĐ-UBND", "PA-2026-000123, QĐ số 0123/QĐ-UBND")])
def test_contact_details_in_public_text_are_masked_and_nothing_else(written, shown):
    assert masked(written) == shown


@pytest.mark.parametrize(("kind", "anonymous", "public"), [
    ("feedback", False, True), ("feedback", True, False), ("complaint", False, False),
    ("denunciation", False, False), ("complaint", True, False)])
def test_the_publication_rule(kind, anonymous, public):
    petition = Petition(code="PA-2026-000001", kind=kind, field="roads", description="x",
                        anonymous=anonymous, accept_due=NOW.date(), answer_due=NOW.date())
    assert is_public(petition) is public


async def test_no_personal_data_appears_on_any_page(site, db):
    secrets = await personal_data(db)
    assert len(secrets) > 100 and set(NAMES) <= secrets
    bodies = []
    for path in PAGES:
        for lang in ("vi", "en"):
            bodies.append((path, (await _get(site + path, params={"lang": lang}))[1]))
    for petition in await _codes(db):
        path = f"/cong-khai/phan-anh/{petition.code}"
        bodies.append((path, (await _get(site + path))[1]))
    for name in NAMES:  # searching a resident's name finds nothing of them
        bodies.append((name, (await _get(site + "/cong-khai/thong-tin",
                                          params={"q": name.split()[-1]}))[1]))
    for path, body in bodies:
        leaked = [s for s in secrets if s in body]
        assert not leaked, (path, leaked[:3])


async def test_pages_are_cached_briefly(site, db):
    status, before = await _get(site + "/cong-khai/doi-thoai")
    async with db.session() as session:
        from storage.models import DialogueSession
        session.add(DialogueSession(topic="Buổi mới thêm", place="Hội trường", capacity=10,
                                    starts_at=NOW.replace(year=2027)))
        await session.commit()
    status, cached = await _get(site + "/cong-khai/doi-thoai")
    assert "Buổi mới thêm" not in cached  # served from the cache


async def _serve_run(tmp_path: Path, **settings: object) -> tuple[int, str]:
    fake = await FakeTelegram("42:PUB").start()
    port = _free_port()
    app = build(Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'run.db'}",
                         data_dir=tmp_path, telegram_bot_token="42:PUB",
                         telegram_api_url=fake.url, http_port=port, **settings))
    stop = asyncio.Event()
    serving = asyncio.create_task(server.serve(app, stop))
    try:
        async def up() -> bool:
            try:
                return (await _get(f"http://127.0.0.1:{port}/healthz"))[0] == 200
            except aiohttp.ClientConnectionError:
                return False
        await _until(up)
        return await _get(f"http://127.0.0.1:{port}/")
    finally:
        stop.set()
        await serving
        await app.close()
        await fake.stop()


async def test_the_page_is_on_with_the_server_unless_switched_off(tmp_path: Path):
    status, html = await _serve_run(tmp_path / "on")
    assert status == 200 and "Phản ánh, kiến nghị" in html
    status, _ = await _serve_run(tmp_path / "off", public_page=False)
    assert status == 404


async def test_a_disclosures_file_is_offered_once_it_is_posted(demo_db, tmp_path: Path):
    Clock(NOW)
    document = tmp_path / "du-toan-2027.pdf"
    document.write_bytes(b"%PDF-1.4 budget")
    async with demo_db.session() as session:
        ids = []
        for days in (0, 5):  # posted today, and to be posted in five days
            draft = disclosures.Draft(
                category=2, title=f"Dự toán ngân sách {days}", body="Dự toán thu chi.",
                posted_from=NOW.date() + timedelta(days=days),
                attachment=disclosures.store_document(document, tmp_path, f"d{days}"))
            item = await disclosures.publish(session, draft, actor="test", now=NOW,
                                             timezone=TZ)
            ids.append(item.id)
        await session.commit()
    routes = public_page.routes(demo_db, timezone=TZ, data_dir=tmp_path)
    runner, url = await serve(build_web_app(demo_db, dict, routes))
    try:
        status, html = await _get(url + "/cong-khai/thong-tin")
        link = f"/cong-khai/tep/{ids[0]}/du-toan-2027.pdf"
        assert f'href="{link}"' in html and "Tệp: du-toan-2027.pdf" in html
        async with aiohttp.ClientSession() as http, http.get(url + link) as resp:
            assert (resp.status, await resp.read()) == (200, b"%PDF-1.4 budget")
        for missing in (f"/cong-khai/tep/{ids[1]}/du-toan-2027.pdf", "/cong-khai/tep/99/x.pdf"):
            assert (await _get(url + missing))[0] == 404
    finally:
        await runner.cleanup()
