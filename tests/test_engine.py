"""The engine's promises: global commands, persisted state, locks, bad input, the log."""

from __future__ import annotations

import asyncio
import unicodedata

import pytest
from sqlmodel import select

from bot import flows
from bot.engine import Engine, match_button
from bot.keyed_locks import KeyedLocks
from bot.messages import Button
from bot.pseudonym import user_ref
from storage.models import Conversation, InteractionLog
from tests.conftest import MAIN_MENU, PSEUDONYM_KEY, Chat


async def _log(db) -> list[InteractionLog]:
    async with db.session() as s:
        return list((await s.exec(select(InteractionLog).order_by(InteractionLog.id))).all())


async def _conversation(db, user_id: str = "42") -> Conversation:
    async with db.session() as s:
        query = select(Conversation).where(Conversation.user_id == user_id)
        return (await s.exec(query)).one()


def test_typed_text_matches_buttons_by_number_or_folded_label():
    offered = (Button("Đồng ý", "yes"), Button("Không đồng ý", "no"))
    assert match_button("2", offered).payload == "no"
    assert match_button("  dong Y ", offered).payload == "yes"
    assert match_button(unicodedata.normalize("NFD", "Không đồng ý"), offered).payload == "no"
    assert match_button("3", offered) is None
    assert match_button("0", offered) is None
    assert match_button("đồng", offered) is None


async def test_cancel_mid_flow_returns_to_the_menu(chat: Chat, demo_db):
    await chat.onboard()
    await chat.press("Cài đặt")
    await chat.press("Xóa dữ liệu của tôi")
    assert chat.labels == ["Có, xóa dữ liệu", "Không, giữ lại"]
    await chat.send("/cancel")
    assert "Đã hủy" in chat.text
    assert chat.labels == MAIN_MENU
    conv = await _conversation(demo_db)
    assert (conv.flow, conv.step, conv.data) == ("menu", "choice", {})
    await chat.send("1")  # the menu's first entry, not the old "Có, xóa dữ liệu"
    assert "Tìm kiếm" in chat.labels  # the public-information screen


async def test_a_restart_mid_flow_resumes_where_the_user_was(chat: Chat, demo_db):
    await chat.send("/start")
    restarted = Chat(Engine(demo_db, pseudonym_key=PSEUDONYM_KEY))
    await restarted.send("1")  # "Đồng ý", remembered across the restart
    assert "khu dân cư" in restarted.text
    await restarted.send("Khu Thống Nhất")
    assert restarted.labels == MAIN_MENU


@pytest.mark.parametrize(("flow", "step"), [("settings", "step_that_was_renamed"),
                                           ("flow_that_is_gone", "start")])
async def test_a_place_removed_by_a_deploy_returns_to_the_menu(chat: Chat, demo_db, flow, step):
    await chat.onboard()
    async with demo_db.session() as s:
        conv = (await s.exec(select(Conversation))).one()
        conv.flow, conv.step = flow, step
        s.add(conv)
        await s.commit()
    await chat.send("xin chào")
    assert "vừa được cập nhật" in chat.text
    assert chat.labels == MAIN_MENU


async def test_two_messages_at_once_are_answered_one_after_the_other(chat: Chat, demo_db):
    await chat.onboard()
    first, second = await asyncio.gather(chat.send("5"), chat.send("9"))
    assert "Cài đặt của Anh/Chị" in first[0].text
    # The second waited for the first and saw its eight settings buttons: there is no 9th.
    assert "Không có mục số 9" in second[0].text
    inbound = [row for row in await _log(demo_db) if row.direction == "in"]
    assert len(inbound) == 5


async def test_per_user_locks_serialise_and_are_forgotten_afterwards():
    locks, order = KeyedLocks(), []

    async def work(key: str, name: str) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(work("a", "1"), work("a", "2"), work("a", "3"), work("b", "4"))
    assert [o for o in order if o[0] in "123"] == [
        "1 in", "1 out", "2 in", "2 out", "3 in", "3 out"]
    assert order.index("4 in") < order.index("1 out")  # other users do not wait
    assert len(locks) == 0


async def test_a_button_from_an_old_keyboard_gets_a_polite_reminder(chat: Chat, demo_db):
    await chat.onboard()
    await chat.send(payload="consent:yes")
    assert "tin nhắn cũ" in chat.text
    assert chat.labels == MAIN_MENU
    conv = await _conversation(demo_db)
    assert (conv.flow, conv.step) == ("menu", "choice")


async def test_bad_input_gets_short_polite_replies_and_is_logged(chat: Chat, demo_db):
    await chat.onboard()
    before = len(await _log(demo_db))
    cases = {
        "": "không có nội dung",
        "   ": "không có nội dung",
        "x" * 10_000: "Mời Anh/Chị chọn một mục",
        "🙂🎉": "Cảm ơn Anh/Chị! 😊",
        "42": "Không có mục số 42",
        "99999999999999999999": "Mời Anh/Chị gõ một số từ 1 đến 6",
        "/khongco": "Trợ lý chưa hiểu “/khongco”",
        "\x00\x01\ufffd": "Mời Anh/Chị chọn một mục",
    }
    for text, expected in cases.items():
        replies = await chat.send(text)
        assert len(replies) == 1
        assert expected in replies[0].text, text[:20]
        assert len(replies[0].text) < 400
        assert chat.labels == MAIN_MENU
    inbound = [r for r in (await _log(demo_db))[before:] if r.direction == "in"]
    assert len(inbound) == len(cases)
    assert [r.kind for r in inbound[:2]] == ["empty", "empty"]


async def test_nfd_typed_vietnamese_matches_the_button(chat: Chat):
    await chat.onboard()
    await chat.send(unicodedata.normalize("NFD", "Cài đặt"))
    assert "Cài đặt của Anh/Chị" in chat.text


async def test_typing_menu_opens_the_main_menu_from_inside_a_flow(chat: Chat):
    await chat.onboard()
    await chat.press("Cài đặt")
    await chat.send("Menu")
    assert chat.labels == MAIN_MENU


async def test_the_log_keeps_commands_and_buttons_but_never_free_text(chat: Chat, demo_db):
    await chat.onboard()
    await chat.send("Tôi là Nguyễn Văn A, số nhà 12, đường Lê Lợi")
    rows = [r for r in await _log(demo_db) if r.direction in ("in", "out")]
    inbound = [r for r in rows if r.direction == "in"]
    assert [(r.kind, r.text) for r in inbound] == [
        ("command", "/start"), ("button", "Đồng ý"),
        ("button", "Khu Hòa Bình"), ("text", None),
    ]
    assert all("Nguyễn" not in (r.text or "") for r in rows)
    # Text typed at the menu is offered as a petition (maybe a denunciation): that turn is
    # logged without the person, like every turn of sending a petition.
    *onboarding, typed, offer = rows
    assert {r.user_ref for r in onboarding} == {user_ref(PSEUDONYM_KEY, "console", "42")}
    assert (typed.kind, typed.user_ref, offer.user_ref) == ("text", "", "")
    assert user_ref(b"another key", "console", "42") != user_ref(PSEUDONYM_KEY, "console", "42")
    replies = [r for r in rows if r.direction == "out"]
    assert len(replies) == 4
    assert all(r.kind == "reply" and r.latency_ms is not None for r in replies)
    assert (inbound[-2].hamlet_code, inbound[-1].hamlet_code) == ("khu-1", None)
    assert (inbound[-1].flow, inbound[-1].step) == ("menu", "choice")


async def test_a_failing_step_apologises_and_still_logs_the_event(chat: Chat, demo_db,
                                                                   monkeypatch):
    await chat.onboard()

    async def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(flows.ENTRIES, "settings", broken)
    [reply] = await chat.press("Cài đặt")
    assert "hệ thống vừa gặp trục trặc" in reply.text
    last = (await _log(demo_db))[-1]
    assert (last.direction, last.kind) == ("in", "error")
    await chat.send("/menu")  # the user can go on
    assert chat.labels == MAIN_MENU
