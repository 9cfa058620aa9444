"""Personal data in one place, for as long as it is needed: raw updates keep no text once
processed and no profile names ever; a flow's draft goes when the flow ends, is cancelled or
times out; outbox texts are erased after the retention period."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot import scheduler
from bot.engine import Engine
from bot.messages import Attachment, Reply
from bot.services import desk_drafts, inbound_events, outbox, retention
from storage.db import Database
from storage.models import (
    Conversation,
    DeskDraft,
    InboundEvent,
    OutboxMessage,
    Petition,
    PetitionIdentity,
    User,
)
from tests.conftest import MAIN_MENU, PSEUDONYM_KEY, WEDNESDAY_MORNING, Chat, Clock
from tests.fake_telegram import message_update
from tests.test_telegram import TgUser, fake, hook  # noqa: F401  (fixtures)

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
DENOUNCER = ("Hoàng Thị Quyên Riêng", "Số 7 ngõ Bí Mật, Thôn Nà Ca", "0977 123 456")


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def engine(demo_db: Database, clock: Clock) -> Engine:
    return Engine(demo_db, pseudonym_key=PSEUDONYM_KEY)


async def everything(db: Database, model: type) -> list:
    async with db.session() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def conversation(db: Database, user_id: str = "42") -> Conversation:
    async with db.session() as session:
        return (await session.exec(select(Conversation)
                                   .where(Conversation.user_id == user_id))).one()


async def denunciation_to_review(chat: Chat) -> None:
    """Start a denunciation with a distinctive identity and stop at the review card."""
    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Tố cáo")
    name, address, phone = DENOUNCER
    await chat.send(name)
    await chat.send(address)
    await chat.send(phone)
    await chat.press("Khác")
    await chat.press("Bỏ qua")
    await chat.press("Bỏ qua")
    await chat.send("Cán bộ địa chính nhận tiền để làm nhanh hồ sơ đất của người quen.")
    await chat.press("Bỏ qua")
    assert "Gửi" in chat.labels and "Hủy" in chat.labels


def mentions_denouncer(row: object) -> bool:
    text = json.dumps(vars(row), default=str, ensure_ascii=False)
    return any(part in text for part in (*DENOUNCER, "0977123456"))


async def test_a_denunciation_cancelled_at_the_review_leaves_nothing_behind(chat: Chat,
                                                                            demo_db):
    await chat.onboard()
    await denunciation_to_review(chat)
    assert mentions_denouncer(await conversation(demo_db))  # the draft, while it is one
    await chat.press("Hủy")
    assert "Chưa có gì được gửi" in chat.text and chat.labels == MAIN_MENU
    conv = await conversation(demo_db)
    assert conv.data == {} and not mentions_denouncer(conv)
    assert await everything(demo_db, Petition) == []
    assert await everything(demo_db, PetitionIdentity) == []


async def test_a_flow_s_data_is_gone_when_it_ends_or_is_cancelled(chat: Chat, demo_db):
    await chat.onboard()
    await denunciation_to_review(chat)
    await chat.press("Gửi")
    assert "TC-2026-000001" in chat.text
    assert (await conversation(demo_db)).data == {}  # sent: it lives in petition_identities
    [identity] = await everything(demo_db, PetitionIdentity)
    assert identity.full_name == DENOUNCER[0]

    await chat.press("Gửi phản ánh, kiến nghị")
    await chat.press("Khiếu nại")
    await chat.send("Lê Văn Khiếu Nại")
    assert mentions_denouncer(await conversation(demo_db)) is False
    assert "Lê Văn Khiếu Nại" in json.dumps((await conversation(demo_db)).data,
                                             ensure_ascii=False)
    await chat.send("/cancel")
    assert (await conversation(demo_db)).data == {}


async def test_an_unfinished_flow_is_forgotten_after_a_day(chat: Chat, demo_db, clock):
    await chat.onboard()
    await denunciation_to_review(chat)
    send = chat.button("Gửi")
    clock.now = NOW + retention.FLOW_TIMEOUT - timedelta(minutes=1)
    assert await scheduler.clear_stale_drafts(demo_db) == 0
    clock.now = NOW + retention.FLOW_TIMEOUT + timedelta(minutes=1)
    assert await scheduler.clear_stale_drafts(demo_db) == 1
    conv = await conversation(demo_db)
    assert (conv.flow, conv.step, conv.data, conv.buttons) == (None, None, {}, [])
    assert not mentions_denouncer(conv)
    assert await scheduler.clear_stale_drafts(demo_db) == 0
    await chat.send(payload=send.payload)  # the old review's button is gone: the menu opens
    assert "tin nhắn cũ" in chat.text and chat.labels == MAIN_MENU
    assert await everything(demo_db, Petition) == []


async def test_a_staff_answer_left_unsent_for_a_week_is_forgotten(demo_db, clock):
    from tests.test_petition_desk_rules import submit

    petition = await submit(demo_db)
    async with demo_db.unit_of_work() as session:
        draft = await desk_drafts.start(session, "telegram", "900", "900",
                                        petition_id=petition.id,
                                        action="answer", now=NOW)
        desk_drafts.add(draft, "Đã thay bóng đèn, tên người gọi: Lê Văn Gọi", (), "telegram",
                        NOW)
        session.add(draft)
        await session.commit()
    clock.now = NOW + retention.DESK_DRAFT_TIMEOUT - timedelta(minutes=1)
    assert await scheduler.clear_stale_drafts(demo_db) == 0
    clock.now = NOW + retention.DESK_DRAFT_TIMEOUT + timedelta(minutes=1)
    assert await scheduler.clear_stale_drafts(demo_db) == 1
    assert await everything(demo_db, DeskDraft) == []


async def test_a_registration_keeps_the_name_in_the_registration_not_in_the_flow(
        chat: Chat, demo_db, monkeypatch, tmp_path):
    from bot.services import session_notices
    from tests.test_sessions import announce

    monkeypatch.setattr(session_notices, "TICKETS_DIR", tmp_path / "tickets")
    await announce(demo_db, capacity=5)
    await chat.onboard()
    await chat.press("Đối thoại")
    await chat.press("Đường liên thôn Nà Ca")
    await chat.press("Đăng ký")
    await chat.send("Phạm Văn Đăng Ký")
    await chat.press("Khu Hòa Bình")
    await chat.press("Bỏ qua")
    assert "Mã vé" in chat.text
    assert "Phạm Văn Đăng Ký" not in json.dumps((await conversation(demo_db)).data,
                                                 ensure_ascii=False)


async def test_outbox_texts_are_erased_after_the_retention_period(demo_db):
    clock = Clock(NOW)
    async with demo_db.unit_of_work() as session:
        recipient = outbox.Recipient("telegram", "777")
        sent = await outbox.enqueue(session, recipient, Reply("Vé của Anh Nguyễn Văn Gửi"))
        waiting = await outbox.enqueue(session, recipient, Reply("Chưa gửi"),
                                       not_before=NOW + timedelta(days=60))
        row = await session.get(OutboxMessage, sent)
        row.status, row.sent_at = outbox.SENT, NOW
        await session.commit()
    clock.now = NOW + timedelta(days=30) - timedelta(minutes=1)
    assert await scheduler.prune_outbox(demo_db, 30) == 0
    clock.now = NOW + timedelta(days=30) + timedelta(minutes=1)
    assert await scheduler.prune_outbox(demo_db, 30) == 1
    assert await scheduler.prune_outbox(demo_db, 30) == 0
    rows = {row.id: row for row in await everything(demo_db, OutboxMessage)}
    assert (rows[sent].text, rows[sent].buttons, rows[sent].status) == ("", [], "sent")
    assert rows[waiting].text == "Chưa gửi"  # not delivered yet: kept


def test_the_retention_jobs_are_scheduled():
    from bot.services.dispatcher import Dispatcher

    jobs = scheduler.build("Asia/Ho_Chi_Minh")
    scheduler.add_jobs(jobs, Dispatcher(None, pseudonym_key=PSEUDONYM_KEY),
                       outbox_retention_days=30)
    ids = {job.id for job in jobs.get_jobs()}
    assert {"clear_stale_drafts", "prune_outbox"} <= ids
    [prune] = [job for job in jobs.get_jobs() if job.id == "prune_outbox"]
    assert prune.args[-1] == 30


async def test_a_stored_update_keeps_no_profile_names_and_once_processed_no_text(db):
    events = inbound_events.EventLog(db, "telegram", lease=0)  # leased to nobody: read back
    update = message_update(301, "Tôi là Đỗ Văn Riêng Tư, số 0988 777 666")
    update["message"]["from"].update(last_name="Riêng Tư", username="dovanriengtu")
    assert await events.store("1", update)
    await events.flush()
    [row] = await everything(db, InboundEvent)
    stored = json.dumps(row.payload, ensure_ascii=False)
    assert "User301" not in stored and "Riêng Tư\"" not in stored and "dovanriengtu" not in stored
    assert "0988 777 666" in stored  # until it is processed (a crash processes it again)
    assert (await events.pending())[0]["message"]["text"] == update["message"]["text"]
    events.done("1")
    await events.flush()
    [row] = await everything(db, InboundEvent)
    assert (row.status, row.payload) == ("done", {"kind": "message"})


async def test_on_telegram_nothing_but_the_account_id_is_kept_before_consent(
        hook, demo_db, fake):  # noqa: F811
    Clock(WEDNESDAY_MORNING)
    person = TgUser(hook, 602)
    await person.send("/start")
    await person.send("Tôi tên là Vũ Thị Chưa Đồng Ý")  # typed at the notice, not agreed
    await hook.runtime.events.flush()
    [user] = await everything(demo_db, User)
    assert (user.external_id, user.display_name, user.phone, user.hamlet_id,
            user.consent_version) == ("602", None, None, None, None)
    events = await everything(demo_db, InboundEvent)
    assert len(events) == 2 and {e.status for e in events} == {"done"}
    assert [e.payload for e in events] == [{"kind": "message"}, {"kind": "message"}]
    conv = await conversation(demo_db, "602")
    assert "Chưa Đồng Ý" not in json.dumps(conv.data, ensure_ascii=False)
    found = [r for model in (User, InboundEvent, Conversation, OutboxMessage)
             for r in await everything(demo_db, model)]
    everywhere = " ".join(json.dumps(vars(r), default=str, ensure_ascii=False) for r in found)
    assert "User602" not in everywhere and "Chưa Đồng Ý" not in everywhere


def _received_file(data_dir: Path, name: str, written: datetime) -> str:
    """A file as the Zalo edge downloads it (DATA_DIR/received/…), written at `written`."""
    relative = f"received/zalo/2026-11/{name}"
    path = data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8 photo")
    os.utime(path, (written.timestamp(), written.timestamp()))
    return relative


async def test_photos_of_a_cancelled_denunciation_are_deleted_after_a_day(
        chat: Chat, demo_db, clock, tmp_path):
    data_dir = tmp_path / "data"
    cancelled = _received_file(data_dir, "cancelled.jpg", NOW)
    sent = _received_file(data_dir, "sent.jpg", NOW)
    in_draft = _received_file(data_dir, "draft.jpg", NOW)
    await chat.onboard()
    for ref, then in ((cancelled, "Hủy"), (sent, "Gửi")):
        await chat.press("Gửi phản ánh, kiến nghị")
        await chat.press("Tố cáo")
        await chat.send(DENOUNCER[0])
        await chat.send(DENOUNCER[1])
        await chat.press("Bỏ qua")
        await chat.press("Khác")
        await chat.press("Bỏ qua")
        await chat.press("Bỏ qua")
        await chat.send("Cán bộ địa chính nhận tiền để làm nhanh hồ sơ đất của người quen.",
                        attachments=(Attachment("photo", ref, size=8),))
        await chat.press("Xong")
        await chat.press(then)
    other = Chat(chat.engine, user_id="43")
    await other.onboard()
    await other.press("Gửi phản ánh, kiến nghị")
    await other.press("Phản ánh, kiến nghị")
    await other.press("Gửi ẩn danh")
    await other.press("Khác")
    await other.press("Khu Hòa Bình")
    await other.press("Bỏ qua")
    await other.send("Rác tồn đọng ở đầu ngõ ba hôm nay.",
                     attachments=(Attachment("photo", in_draft, size=8),))
    clock.now = NOW + retention.FLOW_TIMEOUT - timedelta(minutes=1)
    assert await scheduler.forget_unsent_files(demo_db, data_dir) == 0
    clock.now = NOW + retention.FLOW_TIMEOUT + timedelta(minutes=1)
    assert await scheduler.forget_unsent_files(demo_db, data_dir) == 1  # in the draft: kept
    assert not (data_dir / cancelled).exists()
    assert (data_dir / sent).exists() and (data_dir / in_draft).exists()
    [petition] = await everything(demo_db, Petition)
    assert petition.attachments[0]["ref"] == sent
