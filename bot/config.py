"""Settings from the environment and `.env` (pydantic-settings). Secrets are never printed."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import ConfigError, async_database_url

SUPPORTED_LOCALES = ("vi", "en")

class Settings(BaseSettings):
    """Everything configurable; read once in __main__ and passed down."""

    # Empty values (as copied from .env.example) mean "unset": the default applies.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    database_url: str = "sqlite:///./data/civicbot.db"
    data_dir: Path = Path("./data")

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    zalo_bot_token: SecretStr | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: SecretStr | None = None
    zalo_groups: bool = False

    zalo_oa_app_id: str | None = None
    zalo_oa_app_secret: SecretStr | None = None
    zalo_oa_secret_key: SecretStr | None = None
    zalo_oa_access_token: SecretStr | None = None
    zalo_oa_refresh_token: SecretStr | None = None
    zalo_oa_api_url: str = "https://openapi.zalo.me"
    zalo_oa_oauth_url: str = "https://oauth.zaloapp.com"

    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_base_url: str | None = None
    open311: bool = True  # the Open311 GeoReport v2 API at /open311/v2/ of the HTTP server
    public_page: bool = True  # the public record at / and /cong-khai/ on the HTTP server
    web_desk: bool = True  # the staff web desk at /ban-lam-viec/ on the HTTP server

    pseudonym_key: SecretStr | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    default_locale: str = "vi"
    log_retention_days: int = Field(default=365, ge=1)
    outbox_retention_days: int = Field(default=30, ge=1)
    # How long a stored update stays with the process that took it unless renewed (several
    # processes on one PostgreSQL: a dead process's updates are taken over after this).
    inbound_lease_seconds: float = Field(default=30.0, gt=0)
    # Per-person flood control at the channels' edge (bot.handlers.flood): a person may send
    # FLOOD_BURST messages at once, then FLOOD_RATE a second; faster ones wait, none is
    # dropped. FLOOD_RATE=0 turns it off.
    flood_burst: int = Field(default=10, ge=1)
    flood_rate: float = Field(default=1.0, ge=0)
    backup_dir: Path | None = None  # set: a backup archive there every night (civicbot backup)
    backup_keep: int = Field(default=7, ge=1)  # how many nightly archives are kept

    @field_validator("database_url")
    @classmethod
    def _accepted_database_url(cls, value: str) -> str:
        async_database_url(value)
        return value

    @field_validator("default_locale")
    @classmethod
    def _supported_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ConfigError(f"DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @property
    def async_database_url(self) -> str:
        """The DATABASE_URL with its async driver (aiosqlite or asyncpg)."""
        return async_database_url(self.database_url)

    @property
    def web_base_url(self) -> str:
        """Where browsers reach the HTTP server (PUBLIC_BASE_URL, else HTTP_HOST:HTTP_PORT)."""
        return (self.public_base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def channels_configured(self) -> list[str]:
        """Names of the channels whose credentials are set."""
        names = []
        if self.telegram_bot_token:
            names.append("telegram")
        if self.zalo_bot_token:
            names.append("zalo")
        if self.zalo_oa_app_id and self.zalo_oa_secret_key:
            names.append("zalo_oa")
        return names
