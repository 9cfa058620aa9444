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
