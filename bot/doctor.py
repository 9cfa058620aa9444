"""`civicbot doctor`: check a configuration before starting, one line per check.

Each check returns a `Check` (ok or not, and what it saw). Channel tokens are tried with one
harmless call against the configured base URLs: Telegram's and the Zalo Bot Platform's
`getMe`, the Zalo OA's `getoa`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
import sqlalchemy as sa

from bot.config import Settings
from storage import clock
from storage.db import Database, head_revision

TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


async def run_checks(settings: Settings, db: Database) -> list[Check]:
    """Every check that applies to these settings, in a stable order."""
    checks = [check_timezone(settings), check_folder(settings.data_dir), check_key(settings),
              await check_database(db)]
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        if settings.telegram_bot_token:
            checks.append(await check_get_me(
                http, "telegram", settings.telegram_api_url,
                settings.telegram_bot_token.get_secret_value()))
            checks.append(await check_webhook(http, "telegram", settings.telegram_webhook_url))
        if settings.zalo_bot_token:
            checks.append(await check_get_me(
                http, "zalo", settings.zalo_api_url, settings.zalo_bot_token.get_secret_value()))
            checks.append(await check_webhook(http, "zalo", settings.zalo_webhook_url))
        if settings.zalo_oa_app_id and settings.zalo_oa_secret_key:
            checks.append(await check_zalo_oa(http, settings, await _stored_oa_token(
                db, settings.zalo_oa_app_id)))
    if not settings.channels_configured:
        checks.append(Check("channels", True, "no channel token set: `civicbot run` starts "
                            "the console chat"))
    return checks


def check_timezone(settings: Settings) -> Check:
    """The time zone exists and the clock reads a plausible year."""
    try:
        zone = ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return Check("clock", False, f"unknown TIMEZONE {settings.timezone!r}")
    local = clock.now().astimezone(zone)
    if not 2025 <= local.year < 2100:
        return Check("clock", False, f"the system clock reads {local:%Y-%m-%d %H:%M}: set it "
                     "(e.g. with systemd-timesyncd)")
    return Check("clock", True, f"{local:%Y-%m-%d %H:%M} in {settings.timezone} "
                 f"(UTC{local:%z})")


def check_folder(data_dir: Path) -> Check:
    """The data folder exists (or can be made) and is writable."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check("data folder", False, f"{data_dir} is not writable ({exc.strerror})")
    return Check("data folder", True, f"{data_dir.resolve()} is writable")


def check_key(settings: Settings) -> Check:
    """The pseudonym key is set, or its file is readable (or can be created)."""
    if settings.pseudonym_key:
        return Check("pseudonym key", True, "set by PSEUDONYM_KEY")
    path = settings.data_dir / "pseudonym.key"
    if not path.exists():
        return Check("pseudonym key", True, f"{path} will be created at first start")
    try:
        if not path.read_text().strip():
            return Check("pseudonym key", False, f"{path} is empty")
    except OSError as exc:
        return Check("pseudonym key", False, f"{path} cannot be read ({exc.strerror})")
    return Check("pseudonym key", True, f"{path} is readable")


async def check_database(db: Database) -> Check:
    """The database answers and its schema is the newest migration."""
    head = head_revision()
    try:
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            current = None
            if "alembic_version" in tables:
                result = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
                current = result.scalar()
    except Exception as exc:  # any driver error means "cannot use this database"
        return Check("database", False, f"cannot connect: {type(exc).__name__}")
    if current is None:
        return Check("database", True, "empty: the schema is created at first start")
    if current != head:
        return Check("database", False, f"schema {current}, this version needs {head}: "
                     "run `civicbot db upgrade` (after `civicbot backup`)")
    return Check("database", True, f"schema at the newest migration ({head})")


async def check_get_me(http: aiohttp.ClientSession, channel: str, base_url: str,
                       token: str) -> Check:
    """The token is accepted by the channel's getMe."""
    name = f"{channel} token"
    try:
        async with http.post(f"{base_url.rstrip('/')}/bot{token}/getMe", json={}) as response:
            answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Check(name, False, f"{base_url} does not answer ({type(exc).__name__})")
    if not isinstance(answer, dict) or answer.get("ok") is not True:
        what = answer.get("description") if isinstance(answer, dict) else None
        return Check(name, False, f"refused by {base_url}: {what or 'not a Bot API answer'}")
    me = answer.get("result") or {}
    who = me.get("username") or me.get("account_name") or me.get("id")
    return Check(name, True, f"accepted by {base_url} (the bot is {who})")


async def check_webhook(http: aiohttp.ClientSession, channel: str, url: str | None) -> Check:
    """The webhook URL, when set, is HTTPS and something answers there."""
    name = f"{channel} webhook"
    if not url:
        return Check(name, True, "unset: the bot polls for updates")
    if not url.startswith("https://"):
        return Check(name, False, f"{url} is not HTTPS: the platforms post only to https:// "
                     "(put a reverse proxy with a certificate in front, see deploy/)")
    try:
        async with http.get(url, allow_redirects=False) as response:
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Check(name, False, f"{url} is not reachable ({type(exc).__name__})")
    if status in (502, 503, 504):
        return Check(name, True, f"{url} reached the proxy (HTTP {status}: the bot behind "
                     "it is not running yet)")
    return Check(name, True, f"{url} answers (HTTP {status})")


async def _stored_oa_token(db: Database, app_id: str) -> tuple[str, datetime | None] | None:
    """The access token the bot stored after authorisation or its last refresh, if any."""
    try:
        async with db.engine.connect() as conn:
            row = (await conn.execute(sa.text(
                "SELECT access_token, expires_at FROM zalo_oa_tokens WHERE app_id = :app"),
                {"app": app_id})).first()
    except Exception:  # no table yet (a new database): nothing stored
        return None
    if row is None or not row[0]:
        return None
    expires = row[1]
    if isinstance(expires, str):  # SQLite hands back text
        expires = datetime.fromisoformat(expires)
    return row[0], expires.replace(tzinfo=UTC) if expires and not expires.tzinfo else expires


async def check_zalo_oa(http: aiohttp.ClientSession, settings: Settings,
                        stored: tuple[str, datetime | None] | None = None) -> Check:
    """The Official Account's access token (stored, else ZALO_OA_ACCESS_TOKEN) reads the OA's
    profile. An expired stored token is not refreshed here: Zalo's refresh token is single-use,
    and spending it is the running bot's job."""
    name = "zalo_oa token"
    if stored is not None and stored[1] is not None and stored[1] <= clock.now():
        return Check(name, True, f"the stored access token expired at {stored[1]:%Y-%m-%d %H:%M}"
                     " UTC: the bot refreshes it at start")
    if stored is None and not settings.zalo_oa_access_token:
        return Check(name, False, "no access token stored or set: authorise the OA with "
                     "`civicbot zalo-oa authorize`")
    url = f"{settings.zalo_oa_api_url.rstrip('/')}/v2.0/oa/getoa"
    token = stored[0] if stored else settings.zalo_oa_access_token.get_secret_value()
    try:
        async with http.get(url, headers={"access_token": token}) as response:
            answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Check(name, False, f"{url} does not answer ({type(exc).__name__})")
    if not isinstance(answer, dict) or answer.get("error") not in (0, None):
        return Check(name, False, f"refused by {settings.zalo_oa_api_url}: "
                     f"{answer.get('message') if isinstance(answer, dict) else answer}")
    return Check(name, True, f"accepted by {settings.zalo_oa_api_url}")
