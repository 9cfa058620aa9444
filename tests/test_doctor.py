"""`civicbot doctor` against the fake Telegram, Zalo and Zalo OA servers: one line per check,
exit 1 when one fails."""

from __future__ import annotations

import argparse
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import cli_ops
from bot.config import Settings
from storage.db import Database, head_revision
from tests.conftest import PG_URL, Clock, schema_changed
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.fake_zalo_oa import APP_ID, FakeZaloOA


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the newest migration."""
    url = f"sqlite:///{tmp_path / 'bot.db'}" if request.param == "sqlite" else PG_URL
    database = Database(Settings(database_url=url).async_database_url)
    await database.drop_all()
    schema_changed()
    await database.upgrade()
    await database.dispose()
    yield url
    schema_changed()


@pytest.fixture
async def fakes():
    servers = (await FakeTelegram().start(), await FakeZalo().start(), await FakeZaloOA().start())
    yield servers
    for server in servers:
        await server.stop()


def _settings(database_url: str, tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, database_url=database_url, data_dir=tmp_path / "data",
                    **values)


async def _doctor(settings: Settings, capsys) -> tuple[int, list[str]]:
    code = await cli_ops.cmd_doctor(settings, argparse.Namespace())
    return code, capsys.readouterr().out.splitlines()


def _line(lines: list[str], name: str) -> str:
    return next(line for line in lines if line.split(":")[0].split(maxsplit=1)[1] == name)


async def test_good_tokens_pass_every_check(database_url, fakes, tmp_path, capsys):
    telegram, zalo, oa = fakes
    access, _ = oa.issue()
    settings = _settings(database_url, tmp_path, telegram_bot_token=telegram.token,
                         telegram_api_url=telegram.url, zalo_bot_token=zalo.token,
                         zalo_api_url=zalo.url, zalo_oa_app_id=APP_ID, zalo_oa_secret_key="s",
                         zalo_oa_access_token=access, zalo_oa_api_url=oa.url)
    code, lines = await _doctor(settings, capsys)
    assert code == 0, lines
    assert _line(lines, "telegram token").startswith(f"ok    telegram token: accepted by "
                                                     f"{telegram.url}")
    assert _line(lines, "zalo token").startswith("ok    zalo token: accepted")
    assert _line(lines, "zalo_oa token").startswith("ok    zalo_oa token: accepted")
    assert _line(lines, "telegram webhook") == ("ok    telegram webhook: unset: the bot polls "
                                                "for updates")
    assert _line(lines, "database").startswith("ok    database: schema at the newest")
    assert _line(lines, "data folder").startswith("ok")
    assert _line(lines, "clock").startswith("ok    clock: ")
    assert lines[-1] == "all checks passed"
    assert [c.method for c in telegram.calls] == ["getMe"]  # harmless: nothing sent


async def test_bad_tokens_fail_with_what_the_server_said(database_url, fakes, tmp_path, capsys):
    telegram, zalo, oa = fakes
    settings = _settings(database_url, tmp_path, telegram_bot_token="999:WRONG",
                         telegram_api_url=telegram.url, zalo_bot_token="1:WRONG",
                         zalo_api_url=zalo.url, zalo_oa_app_id=APP_ID, zalo_oa_secret_key="s",
                         zalo_oa_access_token="expired", zalo_oa_api_url=oa.url)
    code, lines = await _doctor(settings, capsys)
    assert code == 1
    assert _line(lines, "telegram token") == (f"FAIL  telegram token: refused by {telegram.url}: "
                                              "Unauthorized")
    assert _line(lines, "zalo token").startswith(f"FAIL  zalo token: refused by {zalo.url}")
    assert _line(lines, "zalo_oa token") == (f"FAIL  zalo_oa token: refused by {oa.url}: "
                                             "Access token is invalid")
    assert lines[-1] == "3 problem(s) found"
    assert "999:WRONG" not in "\n".join(lines)  # a token is never printed


async def test_a_webhook_over_plain_http_or_unreachable_fails(database_url, fakes, tmp_path,
                                                              capsys):
    telegram, zalo, _ = fakes
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings = _settings(database_url, tmp_path, telegram_bot_token=telegram.token,
                         telegram_api_url=telegram.url,
                         telegram_webhook_url="http://bot.example.vn/webhook/telegram",
                         zalo_bot_token=zalo.token, zalo_api_url=zalo.url,
                         zalo_webhook_url=f"https://127.0.0.1:{closed}/webhook/zalo")
    code, lines = await _doctor(settings, capsys)
    assert code == 1
    assert _line(lines, "telegram webhook").startswith(
        "FAIL  telegram webhook: http://bot.example.vn/webhook/telegram is not HTTPS")
    assert _line(lines, "zalo webhook").startswith(
        f"FAIL  zalo webhook: https://127.0.0.1:{closed}/webhook/zalo is not reachable")
    assert _line(lines, "telegram token").startswith("ok")


async def test_a_database_behind_head_fails(database_url, tmp_path, capsys):
    database = Database(Settings(database_url=database_url).async_database_url)
    await database.drop_all()
    await database.upgrade("0008")
    await database.dispose()
    code, lines = await _doctor(_settings(database_url, tmp_path), capsys)
    assert code == 1
    assert _line(lines, "database").startswith("FAIL  database: schema 0008, this version "
                                               f"needs {head_revision()}")
    assert "civicbot db upgrade" in _line(lines, "database")


async def test_an_unwritable_data_folder_fails(database_url, tmp_path, capsys):
    (tmp_path / "data").write_text("a file where the folder should be")
    code, lines = await _doctor(_settings(database_url, tmp_path), capsys)
    assert code == 1
    assert _line(lines, "data folder").startswith("FAIL  data folder:")


async def test_the_zalo_oa_check_uses_the_stored_token_and_never_refreshes(database_url, fakes,
                                                                            tmp_path, capsys):
    _, _, oa = fakes
    access, _ = oa.issue()
    database = Database(Settings(database_url=database_url).async_database_url)
    async with database.engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO zalo_oa_tokens (app_id, access_token, refresh_token, refreshes, "
            "updated_at) VALUES (:app, :access, 'RT', 0, :now)"),
            {"app": APP_ID, "access": access, "now": datetime(2026, 11, 25, 3, 0)})
    await database.dispose()
    settings = _settings(database_url, tmp_path, zalo_oa_app_id=APP_ID, zalo_oa_secret_key="s",
                         zalo_oa_api_url=oa.url)
    code, lines = await _doctor(settings, capsys)
    assert code == 0, lines
    assert _line(lines, "zalo_oa token") == f"ok    zalo_oa token: accepted by {oa.url}"
    oa.expire(access)
    code, lines = await _doctor(settings, capsys)
    assert code == 1 and "Access token is invalid" in _line(lines, "zalo_oa token")
    assert not oa.of("/v4/oa/access_token")  # the single-use refresh token was not spent


async def test_an_expired_stored_zalo_oa_token_is_left_to_the_bot(database_url, fakes,
                                                                  tmp_path, capsys):
    _, _, oa = fakes
    Clock(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    database = Database(Settings(database_url=database_url).async_database_url)
    async with database.engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO zalo_oa_tokens (app_id, access_token, refresh_token, refreshes, "
            "expires_at, updated_at) VALUES (:app, 'AT-old', 'RT', 0, :then, :then)"),
            {"app": APP_ID, "then": datetime(2026, 11, 24, 3, 0)})
    await database.dispose()
    settings = _settings(database_url, tmp_path, zalo_oa_app_id=APP_ID, zalo_oa_secret_key="s",
                         zalo_oa_api_url=oa.url)
    code, lines = await _doctor(settings, capsys)
    assert code == 0, lines
    assert _line(lines, "zalo_oa token") == ("ok    zalo_oa token: the stored access token "
                                             "expired at 2026-11-24 03:00 UTC: the bot "
                                             "refreshes it at start")
    assert oa.calls == []  # neither getoa with a dead token nor a refresh


async def test_no_zalo_oa_token_at_all_fails(database_url, fakes, tmp_path, capsys):
    settings = _settings(database_url, tmp_path, zalo_oa_app_id=APP_ID, zalo_oa_secret_key="s",
                         zalo_oa_api_url=fakes[2].url)
    code, lines = await _doctor(settings, capsys)
    assert code == 1 and "civicbot zalo-oa authorize" in _line(lines, "zalo_oa token")
