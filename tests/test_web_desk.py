"""The web desk's doors: one-time links from the chat and the shell, the session cookie,
the role read on every request, CSRF on every change, nothing secret in pages or the log."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select

from bot.services import log_view, roles, web_access
from storage.models import InteractionLog, WebSession
from tests.conftest import WEDNESDAY_MORNING, Chat, Clock
from tests.desk_client import LINK, Desk, csrf_of, desk_server, get  # noqa: F401 (fixture)


async def test_a_link_from_the_chat_opens_the_desk_once(desk: Desk):
    token = await desk.link()
    async with desk.browser() as http:
        assert await desk.sign_in(http, token) == 200
        status, page = await get(http, desk.url + "/ban-lam-viec/nhat-ky")
        assert status == 200 and "Nhật ký" in page and "Chị Lan (địa chính)" in page
        page = (await get(http, desk.url + "/ban-lam-viec/nhat-ky?lang=en"))[1]
        assert "<h1>Interaction log</h1>" in page and "Check integrity" in page
        cookie = next(c for c in http.cookie_jar if c.key == "desk_session")
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
        assert cookie["path"] == "/ban-lam-viec"
    async with desk.browser() as other:  # the same link again, elsewhere
        assert await desk.sign_in(other, token) == 403
        assert (await get(other, desk.url + "/ban-lam-viec/nhat-ky"))[0] == 403


async def test_an_expired_link_a_resident_and_a_forged_cookie_are_refused(desk: Desk):
    token = await desk.link()
    Clock(WEDNESDAY_MORNING + timedelta(minutes=10, seconds=1))
    async with desk.browser() as http:
        assert await desk.sign_in(http, token) == 403
    chat = Chat(desk.engine, user_id="42")
    await chat.onboard()
    await chat.send("/web")
    assert "ban-lam-viec" not in chat.text and "Không được phép" in chat.text
    async with desk.db.session() as session:
        with pytest.raises(web_access.AccessError):
            await web_access.issue_link(session, "console", "42", WEDNESDAY_MORNING)
    async with aiohttp.ClientSession(cookies={"desk_session": "forged-" + "x" * 40}) as http:
        for path in ("/ban-lam-viec/nhat-ky", "/ban-lam-viec/phan-anh", "/ban-lam-viec/bao-cao"):
            assert (await get(http, desk.url + path))[0] == 403, path


async def test_a_change_needs_the_csrf_token(desk: Desk):
    async with desk.browser() as http:
        await desk.sign_in(http, await desk.link())
        page = (await get(http, desk.url + "/ban-lam-viec/nhat-ky"))[1]
        for data in ({}, {"csrf": "0" * 32}):
            async with http.post(desk.url + "/ban-lam-viec/dang-xuat", data=data) as answer:
                assert answer.status == 403
        assert (await get(http, desk.url + "/ban-lam-viec/nhat-ky"))[0] == 200  # still in
        async with http.post(desk.url + "/ban-lam-viec/dang-xuat",
                             data={"csrf": csrf_of(page)}) as answer:
            assert answer.status == 200 and "đăng xuất" in (await answer.text())
        assert (await get(http, desk.url + "/ban-lam-viec/nhat-ky"))[0] == 403


async def test_revoking_the_role_ends_every_session_at_once(desk: Desk):
    first, second = desk.browser(), desk.browser()
    async with first, second:
        await desk.sign_in(first, await desk.link())
        await desk.sign_in(second, await desk.link())
        assert (await get(first, desk.url + "/ban-lam-viec/nhat-ky"))[0] == 200
        async with desk.db.session() as session:
            await roles.revoke(session, "console", "canbo", "staff", actor="console:admin")
            await session.commit()
        async with desk.db.session() as session:  # ended at once, not at the next request
            assert all(s.ended_at for s in (await session.exec(select(WebSession))).all())
        assert (await get(first, desk.url + "/ban-lam-viec/nhat-ky"))[0] == 403
        async with desk.db.session() as session:
            await roles.grant(session, "console", "canbo", "staff", actor="console:admin")
            await session.commit()
        for http in (first, second):  # granted again: the old sessions stay ended
            assert (await get(http, desk.url + "/ban-lam-viec/nhat-ky"))[0] == 403
    async with desk.db.session() as session:
        ended = (await session.exec(select(WebSession))).all()
    assert len(ended) == 2 and all(s.ended_at for s in ended)


async def test_no_token_in_pages_or_the_log(desk: Desk):
    token = await desk.link()
    async with desk.browser() as http:
        await desk.sign_in(http, token)
        cookie = next(c for c in http.cookie_jar if c.key == "desk_session").value
        page = (await get(http, desk.url + "/ban-lam-viec/nhat-ky"))[1]
    assert token not in page and cookie not in page
    async with desk.db.session() as session:
        rows = (await session.exec(select(InteractionLog))).all()
    kinds = [r.kind for r in rows]
    assert "web_link" in kinds and "web_sign_in" in kinds
    assert not [r for r in rows if token in (r.text or "") or cookie in (r.text or "")]


async def test_the_log_page_filters_and_pages_by_keyset(desk: Desk):
    async with desk.db.session() as session:
        for number in range(120):
            session.add(InteractionLog(at=WEDNESDAY_MORNING - timedelta(minutes=number),
                                       channel="zalo" if number % 2 else "telegram",
                                       direction="in", kind="message" if number % 3 else "button",
                                       text=f"dòng {number}"))
        await session.commit()
    async with desk.browser() as http:
        await desk.sign_in(http, await desk.link())
        status, page = await get(http, desk.url + "/ban-lam-viec/nhat-ky?kind=button&channel=zalo")
        rows = re.findall(r"<td>dòng (\d+)</td>", page)
        assert status == 200 and rows and all(int(n) % 6 == 3 for n in rows)
        page = (await get(http, desk.url + "/ban-lam-viec/nhat-ky?kind=message"))[1]
        first = re.findall(r"<td>dòng (\d+)</td>", page)
        more = re.search(r'rel="next" href="([^"]+)"', page)[1].replace("&amp;", "&")
        second = re.findall(r"<td>dòng (\d+)</td>", (await get(http, desk.url + more))[1])
        assert len(first) == 50 and second and not set(first) & set(second)
        page = (await get(http, desk.url + "/ban-lam-viec/nhat-ky?q=dòng 11"))[1]
        assert sorted(re.findall(r"<td>dòng (\d+)</td>", page)) == ["11", "110", "111", "112",
                                                                    "113", "114", "115", "116",
                                                                    "117", "118", "119"]


def test_the_operator_prints_a_link(shell, capsys):
    shell(capsys, "init", str(Path(__file__).parent.parent / "examples" / "commune.demo.toml"))
    code, out, err = shell(capsys, "role", "grant", "--channel", "telegram", "--user-id", "5",
                           "--role", "staff")
    assert code == 0, err
    code, out, err = shell(capsys, "web", "link", "--identity", "telegram:5")
    assert code == 0 and LINK.search(out), err
    code, out, err = shell(capsys, "web", "link", "--identity", "telegram:6")
    assert code != 0 and "staff" in err


async def test_a_rare_word_is_searched_a_window_at_a_time(desk: Desk):
    async with desk.db.session() as session:
        for number in range(100):
            session.add(InteractionLog(at=WEDNESDAY_MORNING, channel="zalo", direction="in",
                                       kind="message", text="hiếm" if number < 3 else "thường"))
        await session.commit()
        wanted = log_view.LogFilter(q="hiếm")
        first = await log_view.page(session, wanted, "Asia/Ho_Chi_Minh", scan=40)
        assert first.rows == [] and first.window
        found, before = [], first.before
        while before is not None:
            more = await log_view.page(session, wanted, "Asia/Ho_Chi_Minh", before=before,
                                       scan=40)
            found += [row.text for row in more.rows]
            before = more.before
    assert found == ["hiếm"] * 3
