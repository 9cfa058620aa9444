"""The web desk served on loopback for tests: a staff chat to ask for links, browsers
that keep cookies, and the small helpers the desk's tests share."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot import web_desk
from bot.engine import Engine
from bot.web import build_web_app
from storage.db import Database
from tests.conftest import PSEUDONYM_KEY, WEDNESDAY_MORNING, Chat, Clock
from tests.loopback import serve

LINK = re.compile(r"https?://\S+/ban-lam-viec/dang-nhap\?t=([\w-]+)")


class Desk:
    """The desk served on loopback, with a staff chat to ask for links."""

    def __init__(self, db: Database, url: str, engine: Engine, data_dir: Path) -> None:
        self.db, self.url, self.engine, self.data_dir = db, url, engine, data_dir
        self.chats: dict[str, Chat] = {}

    async def link(self, user_id: str = "canbo") -> str:
        """Ask for a link with /web in the console chat; returns the token."""
        if user_id not in self.chats:
            self.chats[user_id] = Chat(self.engine, user_id=user_id)
            await self.chats[user_id].onboard()
        chat = self.chats[user_id]
        await chat.send("/web")
        found = LINK.search(chat.text)
        assert found, chat.text
        return found[1]

    def browser(self) -> aiohttp.ClientSession:
        """A browser: keeps cookies (also on plain http://127.0.0.1)."""
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def sign_in(self, http: aiohttp.ClientSession, token: str) -> int:
        """Open the link and press "Sign in"; the status of the page reached."""
        async with http.get(f"{self.url}/ban-lam-viec/dang-nhap?t={token}") as page:
            assert page.status == 200
        async with http.post(f"{self.url}/ban-lam-viec/dang-nhap", data={"t": token}) as page:
            await page.read()
            return page.status


@pytest.fixture(name="desk")
async def desk_server(demo_db: Database, tmp_path: Path) -> AsyncIterator[Desk]:
    Clock(WEDNESDAY_MORNING)
    app = build_web_app(demo_db)
    runner, url = await serve(app)
    app.router._frozen = False  # routes need the URL, known only once served
    app.router.add_routes(web_desk.routes(demo_db, timezone="Asia/Ho_Chi_Minh",
                                          data_dir=tmp_path, key=PSEUDONYM_KEY, base_url=url))
    engine = Engine(demo_db, pseudonym_key=PSEUDONYM_KEY, web_base_url=url)
    yield Desk(demo_db, url, engine, tmp_path)
    await runner.cleanup()


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as page:
        return page.status, await page.text()


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="(\w+)"', page)[1]




async def signed_in(desk: Desk, user_id: str = "canbo") -> tuple[aiohttp.ClientSession, str]:
    """A browser signed in as `user_id`, and its CSRF token."""
    http = desk.browser()
    assert await desk.sign_in(http, await desk.link(user_id)) == 200
    page = (await get(http, desk.url + "/ban-lam-viec/nhat-ky"))[1]
    return http, csrf_of(page)


async def finish(http: aiohttp.ClientSession, url: str) -> str:
    """Follow a job's page until it is done (as its script does); the result page."""
    for _ in range(500):
        async with http.get(url + "?json=1") as answer:
            if (await answer.json())["finished"]:
                break
        await asyncio.sleep(0.02)
    return (await get(http, url))[1]


async def start_job(http: aiohttp.ClientSession, url: str, data: dict) -> str:
    """POST a form that starts a job; the job page's URL."""
    async with http.post(url, data=data, allow_redirects=False) as answer:
        assert answer.status == 303, await answer.text()
        return str(answer.url.join(aiohttp.client.URL(answer.headers["Location"])))
