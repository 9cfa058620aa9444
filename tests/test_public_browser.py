"""The public page in a real headless browser (Debian's chromium driven by Playwright): no
console errors, the charts drawn, the language switch, no sideways scrolling on a 360-px
phone. `make test` installs chromium; the browser is never downloaded."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from bot import public_page
from bot.web import build_web_app
from storage.db import Database
from tests.conftest import Clock
from tests.loopback import serve
from tests.public_seed import NOW, TZ, seed_year

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
PAGES = {"phan-anh": "/", "thong-tin": "/cong-khai/thong-tin",
         "doi-thoai": "/cong-khai/doi-thoai"}


async def launch(playwright) -> Browser:
    """Debian's chromium; the suite fails (never skips) when it is missing."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    # --no-sandbox: the suite may run as root (CI does), where chromium's sandbox refuses
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[str]:
    """The public page over a seeded year on SQLite (the figures are checked on both
    databases in test_public_page)."""
    Clock(NOW)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}")
    await db.create_all()
    await seed_year(db)
    runner, url = await serve(build_web_app(
        db, dict, public_page.routes(db, timezone=TZ, data_dir=tmp_path)))
    yield url
    await runner.cleanup()
    await db.dispose()


async def visit(page: Page, url: str) -> list[str]:
    """Open `url`; returns the console errors and page errors seen while loading."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = await page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return errors


async def sideways(page: Page) -> int:
    """How many pixels the page is wider than the screen."""
    return await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")


async def test_every_section_loads_cleanly_and_fits_a_phone(site):
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            for path in [*PAGES.values(), "/cong-khai/thong-tin?q=ngân sách"]:
                page = await browser.new_page(viewport=PHONE)
                assert await visit(page, site + path) == [], path
                assert await sideways(page) <= 0, path
                await page.close()
        finally:
            await browser.close()


async def test_the_charts_are_drawn(site):
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page(viewport=PHONE)
            await visit(page, site + "/")
            charts = page.locator("svg.chart")
            assert await charts.count() == 3
            for index in range(3):
                box = await charts.nth(index).bounding_box()
                assert box and 300 <= box["width"] <= 360 and box["height"] > 50
            bars = page.locator("svg.chart rect.bar")
            heights = [(await bars.nth(i).bounding_box() or {}).get("height", 0)
                       for i in range(await bars.count())]
            assert sum(h > 0 for h in heights) >= 12  # months and fields with petitions
        finally:
            await browser.close()


async def test_the_language_switch_works_and_is_kept(site):
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page(viewport=PHONE)
            await visit(page, site + "/")
            assert await page.locator("h1").inner_text() == "Phản ánh, kiến nghị"
            await page.get_by_role("link", name="English").click()
            await page.wait_for_load_state()
            assert await page.locator("h1").inner_text() == "Feedback and petitions"
            await page.get_by_role("link", name="Dialogue sessions").click()
            await page.wait_for_load_state()
            assert await page.locator("h1").inner_text() == "Dialogue sessions"
            await page.get_by_role("link", name="Tiếng Việt").click()
            await page.wait_for_load_state()
            assert await page.locator("h1").inner_text() == "Đối thoại"
        finally:
            await browser.close()


async def screenshots(url: str, folder: Path) -> list[Path]:
    """A full-page PNG of each section on a phone, and the petitions page on a desktop."""
    os.makedirs(folder, exist_ok=True)
    shots = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            for name, path in PAGES.items():
                page = await browser.new_page(viewport=PHONE)
                await page.goto(url + path)
                shots.append(folder / f"public-{name}.png")
                height = await page.evaluate("document.documentElement.scrollHeight")
                await page.screenshot(path=shots[-1], full_page=True, clip={
                    "x": 0, "y": 0, "width": PHONE["width"], "height": min(height, 2400)})
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(url + "/")
            shots.append(folder / "public-phan-anh-desktop.png")
            await page.screenshot(path=shots[-1], full_page=True)
        finally:
            await browser.close()
    return shots


async def test_screenshots_are_taken_of_each_section(site, tmp_path):
    shots = await screenshots(site, tmp_path / "shots")
    assert [p.name for p in shots] == ["public-phan-anh.png", "public-thong-tin.png",
                                       "public-doi-thoai.png", "public-phan-anh-desktop.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in shots)
