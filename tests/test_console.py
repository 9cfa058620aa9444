"""The console edge: numbered buttons, commands parsed, a piped conversation."""

from __future__ import annotations

import io

from bot.handlers import console
from bot.messages import Button, Reply, parse_command


def test_buttons_render_as_numbered_lines():
    reply = Reply("Chọn:", (Button("Đồng ý", "y"), Button("Không đồng ý", "n")))
    assert console.render(reply) == "Chọn:\n  1. Đồng ý\n  2. Không đồng ý"


def test_lines_become_commands_or_text():
    assert parse_command("/start s_12") == ("start", "s_12")
    assert parse_command("/Menu@CivicBot") == ("menu", "")
    assert parse_command("/") == (None, "/")
    assert parse_command("1/2 quả") == (None, "1/2 quả")
    assert parse_command("/đi") == ("đi", "")
    inbound = console.to_inbound("/start pa_PA-2026-000123\n", "demo")
    assert (inbound.command, inbound.start_parameter, inbound.channel) == (
        "start", "pa_PA-2026-000123", "console")
    assert console.to_inbound("xin chào\n", "demo").command is None


async def test_a_piped_conversation_prints_every_reply(engine):
    stdin = io.StringIO("/start\n2\n")
    stdout = io.StringIO()
    assert await console.chat(engine, "piped", stdin, stdout) == 2
    out = stdout.getvalue()
    assert out.startswith("> /start\nXin chào Anh/Chị!")
    assert "> 2\nBefore we start" in out
    assert "  1. I agree\n  2. I do not agree" in out


async def test_staff_publish_a_file_from_the_console_and_residents_find_it(engine, tmp_path):
    from bot.services import roles

    async with engine.db.session() as session:
        await roles.grant(session, "console", "canbo", "staff", actor="test")
        await session.commit()
    pdf = tmp_path / "ke-hoach.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    script = f"/start\n1\n1\n1\n/attach {pdf} | Kế hoạch sửa trường mầm non\n3\n1\n1\n1\n1\n"
    stdout = io.StringIO()
    await console.chat(engine, "canbo", io.StringIO(script), stdout)
    assert "Tệp: ke-hoach.pdf" in stdout.getvalue()
    assert "Đã đăng (số 1)" in stdout.getvalue()

    stdout = io.StringIO()
    await console.chat(engine, "dan", io.StringIO("/start\n1\n1\n1\n1\nsua truong\n1\n"), stdout)
    out = stdout.getvalue()
    assert "Kết quả tìm “sua truong”" in out
    assert "[document: ke-hoach.pdf]" in out


async def test_a_voice_file_at_the_console_menu_becomes_a_petition_s_evidence(engine, tmp_path):
    from sqlmodel import select

    from storage.models import Petition

    note = tmp_path / "ghi-am.ogg"
    note.write_bytes(b"OggS")
    script = f"/start\n1\n1\n1\n/attach {note}\n1\n1\n2\n1\n1\n1\nbai rac\n1\n1\n"
    stdout = io.StringIO()
    await console.chat(engine, "ba-tu", io.StringIO(script), stdout)
    out = stdout.getvalue()
    assert "Trợ lý đã nhận tin nhắn thoại của Anh/Chị." in out
    assert "Trợ lý đã giữ tin nhắn thoại để gửi kèm phản ánh làm bằng chứng." in out
    assert "Đã ghi nhận: “bai rac”." in out and "PA-" in out
    async with engine.db.session() as session:
        [petition] = (await session.exec(select(Petition))).all()
    assert [(a["kind"], a["name"]) for a in petition.attachments] == [("voice", "ghi-am.ogg")]
    assert petition.description == "bai rac"
