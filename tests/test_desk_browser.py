"""The web desk in headless chromium (as the public page's browser tests): a staff member
on Telegram (the fake Bot API) presses "Mở bàn làm việc trên web", opens the link, filters
the log, runs the integrity check, answers a petition with a file, downloads an export, and
is refused every page once the role is revoked. `screenshots` also makes docs/desk-*.png."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright
from sqlmodel import col, select

from bot import web_desk
from bot.engine import Engine
from bot.services import roles
from bot.services.petition_statuses import ANSWERED, FEEDBACK, OPEN
from bot.web import build_web_app
from storage.db import Database
from storage.models import Petition
from tests.conftest import PSEUDONYM_KEY, Clock
from tests.fake_telegram import FakeTelegram
from tests.loopback import serve
from tests.public_seed import NOW, TZ, seed_year
from tests.test_public_browser import launch
from tests.test_telegram import TOKEN, Bot, TgUser

STAFF = "900001"
DESKTOP = {"width": 1280, "height": 900}
LINK = re.compile(r"https?://\S+/ban-lam-viec/dang-nhap\?t=[\w-]+")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, Database, Bot]]:
    """A seeded year on SQLite, the desk on loopback, the bot on a fake Telegram."""
    Clock(NOW)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}")
    await db.create_all()
    await seed_year(db)
    async with db.session() as session:
        await roles.grant(session, "telegram", STAFF, "staff", actor="test",
                          name="Chị Hoa (văn phòng)")
        await session.commit()
    app = build_web_app(db)
    runner, url = await serve(app)
    app.router._frozen = False  # routes need the URL, known only once served
    app.router.add_routes(web_desk.routes(db, timezone=TZ, data_dir=tmp_path,
                                          key=PSEUDONYM_KEY, base_url=url))
    fake = await FakeTelegram(TOKEN).start()
    bot = await Bot(Engine(db, pseudonym_key=PSEUDONYM_KEY, web_base_url=url), db, fake,
                    webhook=True).start()
    yield url, db, bot
    await bot.stop()
    await fake.stop()
    await runner.cleanup()
    await db.dispose()


async def link_from_chat(bot: Bot) -> str:
    """The staff member's sign-in link, asked for with the staff menu's button."""
    hoa = TgUser(bot, int(STAFF))
    await hoa.send("/start")
    await hoa.press("Đồng ý")
    await hoa.press("Khu Hòa Bình")
    await hoa.press("Mở bàn làm việc trên web")
    return LINK.search(hoa.text)[0]


async def sign_in(page: Page, link: str) -> None:
    await page.goto(link)
    await page.get_by_role("button", name="Vào bàn làm việc").click()
    await page.wait_for_url("**/ban-lam-viec/nhat-ky")


async def test_a_day_at_the_desk(served, tmp_path: Path):
    url, db, bot = served
    async with db.session() as session:
        petition = (await session.exec(select(Petition).where(
            Petition.kind == FEEDBACK, col(Petition.status).in_(OPEN)))).first()
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page(viewport=DESKTOP, accept_downloads=True)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await sign_in(page, await link_from_chat(bot))
            assert await page.locator("h1").inner_text() == "Nhật ký"

            await page.fill("input[name=kind]", "web_sign_in")
            await page.get_by_role("button", name="Lọc").click()
            await page.wait_for_load_state()
            cells = page.locator("table[data-table=log] tbody td:nth-child(5)")
            kinds = await cells.all_inner_texts()
            assert kinds == ["web_sign_in"]

            await page.get_by_role("button", name="Kiểm tra toàn vẹn").click()
            await page.wait_for_selector("[data-result=ok]", timeout=15000)
            assert "Nhật ký toàn vẹn" in await page.locator("[data-result]").inner_text()

            await page.goto(f"{url}/ban-lam-viec/phan-anh/{petition.id}")
            upload = tmp_path / "bien-ban.pdf"
            upload.write_bytes(b"%PDF-1.4 bien ban")
            await page.fill("textarea[name=text]", "UBND xã đã xử lý.")
            await page.set_input_files("input[name=files]", str(upload))
            await page.get_by_role("button", name="Gửi trả lời").click()
            await page.wait_for_selector("[role=status]")

            await page.goto(f"{url}/ban-lam-viec/bao-cao")
            await page.get_by_role("button", name="Phản ánh (CSV)").click()
            link = page.get_by_role("link", name=re.compile("Tải về"))
            await link.wait_for(timeout=15000)
            async with page.expect_download() as download:
                await link.click()
            saved = tmp_path / "export.csv"
            await (await download.value).save_as(saved)
            assert petition.code in saved.read_text(encoding="utf-8-sig")

            async with db.session() as session:
                await roles.revoke(session, "telegram", STAFF, "staff", actor="test")
                await session.commit()
            for path in ("nhat-ky", "phan-anh", f"phan-anh/{petition.id}", "bao-cao"):
                response = await page.goto(f"{url}/ban-lam-viec/{path}")
                assert response.status == 403, path
        finally:
            await browser.close()
    assert errors == []
    async with db.session() as session:
        assert (await session.get(Petition, petition.id)).status == ANSWERED


async def screenshots(url: str, link: str, petition_id: int, folder: Path) -> list[Path]:
    """Each desk page on a desktop screen."""
    os.makedirs(folder, exist_ok=True)
    shots = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page(viewport=DESKTOP)
            await sign_in(page, link)
            for name, path in (("nhat-ky", "nhat-ky"), ("phan-anh", "phan-anh"),
                               ("ho-so", f"phan-anh/{petition_id}"), ("bao-cao", "bao-cao")):
                await page.goto(f"{url}/ban-lam-viec/{path}")
                shots.append(folder / f"desk-{name}.png")
                await page.screenshot(path=shots[-1], full_page=True, clip={
                    "x": 0, "y": 0, "width": DESKTOP["width"], "height": 2400})
            await page.goto(f"{url}/ban-lam-viec/nhat-ky")
            await page.get_by_role("button", name="Kiểm tra toàn vẹn").click()
            await page.wait_for_selector("[data-result]", timeout=15000)
            shots.append(folder / "desk-kiem-tra.png")
            await page.screenshot(path=shots[-1])
        finally:
            await browser.close()
    return shots


async def test_screenshots_are_taken_of_each_page(served, tmp_path: Path):
    url, db, bot = served
    async with db.session() as session:
        petition = (await session.exec(select(Petition))).first()
    shots = await screenshots(url, await link_from_chat(bot), petition.id, tmp_path / "shots")
    assert [p.name for p in shots] == ["desk-nhat-ky.png", "desk-phan-anh.png",
                                       "desk-ho-so.png", "desk-bao-cao.png",
                                       "desk-kiem-tra.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in shots)
