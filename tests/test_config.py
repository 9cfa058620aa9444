"""Settings: the accepted DATABASE_URL forms, secrets kept out of sight, .env.example complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("given", "driver_url"), [
    ("sqlite:///./data/x.db", "sqlite+aiosqlite:///./data/x.db"),
    ("sqlite+aiosqlite:////tmp/x.db", "sqlite+aiosqlite:////tmp/x.db"),
    ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
    ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
    ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
])
def test_accepted_database_urls_map_to_async_drivers(given, driver_url):
    assert Settings(_env_file=None, database_url=given).async_database_url == driver_url


@pytest.mark.parametrize("given", ["mysql://root:pw@h/db", "postgresql+psycopg://h/db",
                                   "civicbot.db", ""])
def test_other_database_urls_are_refused(given):
    with pytest.raises(ValidationError, match="DATABASE_URL must start with"):
        Settings(_env_file=None, database_url=given)


def test_secrets_never_show_in_repr_or_str():
    settings = Settings(_env_file=None, telegram_bot_token="123:TOPSECRET",
                        pseudonym_key="KEYSECRET")
    assert "TOPSECRET" not in repr(settings) + str(settings)
    assert "KEYSECRET" not in repr(settings) + str(settings)
    assert settings.channels_configured == ["telegram"]


def test_env_example_lists_every_setting_with_a_comment():
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE)
    assert sorted(listed) == sorted(name.upper() for name in Settings.model_fields)
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^#?\s*[A-Z][A-Z0-9_]+=", line):
            assert lines[i - 1].startswith("# ") and not re.match(
                r"^#\s*[A-Z][A-Z0-9_]+=", lines[i - 1]), f"no comment above {line}"


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("HTTP_PORT", "9090")
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    settings = Settings(_env_file=None)
    assert (settings.http_port, settings.default_locale) == (9090, "en")
    monkeypatch.setenv("DEFAULT_LOCALE", "fr")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_empty_values_copied_from_the_example_mean_unset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"))
    settings = Settings()
    assert settings.channels_configured == []
    assert settings.telegram_webhook_url is None and settings.pseudonym_key is None
    assert settings.async_database_url == "sqlite+aiosqlite:///./data/civicbot.db"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    assert Settings().telegram_bot_token is None
