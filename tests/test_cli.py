"""The command line as a newcomer and an operator use it, in real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.__main__ import main
from bot.services import commune_setup

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], tmp_path: Path, stdin: str = "", **env: str
         ) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("TELEGRAM_", "ZALO_", "DATABASE_URL", "PSEUDONYM"))}
    environment |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
                    "DATA_DIR": str(tmp_path / "data")} | env
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, cwd=tmp_path, env=environment, timeout=60,
                          check=False)


def test_a_piped_conversation_reaches_the_main_menu(tmp_path):
    done = _run(["chat"], tmp_path, stdin="/start\nđồng ý\n2\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Xin chào Anh/Chị! Đây là trợ lý tự động của UBND xã Chi Lăng" in out
    assert "  1. Đồng ý\n  2. Xem chi tiết\n  3. Không đồng ý" in out
    assert "Đã ghi nhận Anh/Chị ở Khu Thống Nhất" in out
    assert "  1. Công khai thông tin" in out and "  6. Trợ giúp" in out
    assert (tmp_path / "data" / "pseudonym.key").exists()


def test_run_without_tokens_is_the_console_chat_on_the_demo_commune(tmp_path):
    done = _run(["run"], tmp_path, stdin="/start\n")
    assert done.returncode == 0, done.stderr
    assert "UBND xã Chi Lăng" in done.stdout
    assert "demo commune" in done.stderr


def test_init_twice_and_role_grants(tmp_path):
    demo = str(commune_setup.DEMO_FILE)
    first = _run(["init", demo], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Xã Chi Lăng: 8 hamlets (0 retired), 3 new role grants" in first.stdout
    again = _run(["init", demo], tmp_path)
    assert "8 hamlets (0 retired), 0 new role grants" in again.stdout
    granted = _run(["role", "grant", "--channel", "telegram", "--user-id", "77",
                    "--role", "hamlet_head", "--hamlet", "khu-2", "--hamlet", "Thôn Nà Ca"],
                   tmp_path)
    assert granted.returncode == 0, granted.stderr
    assert "hamlet_head granted for telegram:77 (2 change(s))" in granted.stdout
    wrong = _run(["role", "grant", "--channel", "telegram", "--user-id", "77",
                  "--role", "hamlet_head", "--hamlet", "khu-99"], tmp_path)
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == (
        "error: unknown hamlet 'khu-99' (use its code or name from the commune file)")


def test_settings_errors_are_one_clear_line(tmp_path):
    done = _run(["db", "upgrade"], tmp_path, DATABASE_URL="mysql://root:secret@db/civic")
    assert done.returncode == 1
    assert done.stderr.startswith("error: DATABASE_URL:")
    assert "secret" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_configured_channel_that_does_not_exist_yet_is_refused(tmp_path):
    done = _run(["run"], tmp_path, ZALO_OA_APP_ID="1", ZALO_OA_SECRET_KEY="SECRET")
    assert done.returncode != 0
    assert "zalo_oa" in done.stderr and "SECRET" not in done.stderr + done.stdout


def test_zalo_that_cannot_start_is_one_line_without_the_token(tmp_path):
    done = _run(["run"], tmp_path, ZALO_BOT_TOKEN="123:SECRET",
                ZALO_API_URL="http://127.0.0.1:9")  # nothing listens there
    assert done.returncode == 1
    assert done.stderr.startswith("error: zalo could not start (ZaloError)")
    assert "SECRET" not in done.stderr + done.stdout
    done = _run(["run"], tmp_path, ZALO_BOT_TOKEN="123:SECRET",
                ZALO_WEBHOOK_URL="https://bot.example.vn/webhook/zalo")
    assert done.returncode == 1
    assert done.stderr.startswith("error: zalo: ZALO_WEBHOOK_SECRET (8 to 256 characters)")
    assert len(done.stderr.strip().splitlines()) == 1


def test_telegram_that_cannot_start_is_one_line_without_the_token(tmp_path):
    done = _run(["run"], tmp_path, TELEGRAM_BOT_TOKEN="123:SECRET",
                TELEGRAM_API_URL="http://127.0.0.1:9")  # nothing listens there
    assert done.returncode == 1
    assert done.stderr.startswith("error: telegram could not start (NetworkError)")
    assert "SECRET" not in done.stderr + done.stdout


def test_every_command_has_help(tmp_path):
    for args in (["--help"], ["run", "--help"], ["chat", "--help"], ["init", "--help"],
                 ["role", "--help"], ["group", "link", "--help"], ["db", "--help"]):
        done = _run(args, tmp_path)
        assert done.returncode == 0 and "usage:" in done.stdout


def test_group_link_list_and_unlink(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))

    def cli(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    assert cli("init", str(commune_setup.DEMO_FILE))[0] == 0
    assert cli("group", "link", "--chat-id", "-1001", "--staff", "--title", "Cán bộ") == (
        0, "telegram:-1001 linked as the staff chat\n", "")
    assert cli("group", "link", "--chat-id", "-1002", "--hamlet", "khu-99") == (
        1, "", "error: unknown hamlet 'khu-99' (use its code from the commune file)\n")
    assert cli("group", "link", "--chat-id", "-1002", "--hamlet", "khu-2")[0] == 0
    assert cli("group", "list")[1] == (
        "telegram\t-1001\tstaff\tCán bộ\ntelegram\t-1002\thamlet khu-2\n")
    assert cli("group", "unlink", "--chat-id", "-1001")[0] == 0
    assert cli("group", "unlink", "--chat-id", "-1001") == (
        1, "", "error: telegram:-1001 is not linked\n")
