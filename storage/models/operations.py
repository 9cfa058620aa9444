"""Running the service: Zalo OA tokens and followers, Open311 API keys, the web desk's sign-ins,
sessions and jobs, deployment facts."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage import clock
from storage.models.columns import when


class ZaloOAToken(SQLModel, table=True):
    """The Zalo OA's OAuth pair (one row per app id) and a pending PKCE authorisation.

    The refresh token is single-use: each refresh replaces both tokens in one commit.
    """

    __tablename__ = "zalo_oa_tokens"
    app_id: str = Field(primary_key=True, max_length=40)
    access_token: str | None = Field(default=None, max_length=2000)
    refresh_token: str | None = Field(default=None, max_length=2000)
    expires_at: datetime | None = when(default=None, nullable=True)
    refreshes: int = 0
    state: str | None = Field(default=None, max_length=64)  # of the pending authorisation
    code_verifier: str | None = Field(default=None, max_length=128)
    updated_at: datetime = when(default_factory=clock.now)


class ZaloOAFollower(SQLModel, table=True):
    """A Zalo OA user: the last interaction (the messaging window) and the hamlet tag."""

    __tablename__ = "zalo_oa_followers"
    user_id: str = Field(primary_key=True, max_length=100)
    last_interaction_at: datetime | None = when(default=None, nullable=True)
    following: bool = False
    tag: str | None = Field(default=None, max_length=200)  # the hamlet tag it carries


class ApiKey(SQLModel, table=True):
    """An Open311 API key of a kiosk or partner app: only its SHA-256 is kept."""

    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)  # the first characters, to recognise a key in a list
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = when(default_factory=clock.now)
    revoked_at: datetime | None = when(default=None, nullable=True)
    last_used_at: datetime | None = when(default=None, nullable=True)
    uses: int = 0


class WebSignIn(SQLModel, table=True):
    """A one-time link to the staff web desk, asked for in the chat: only its SHA-256 is
    kept; it is good once, for a few minutes."""

    __tablename__ = "web_sign_ins"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    channel: str = Field(max_length=20)
    user_id: str = Field(max_length=64)
    created_at: datetime = when(default_factory=clock.now)
    expires_at: datetime = when()
    used_at: datetime | None = when(default=None, nullable=True)


class WebSession(SQLModel, table=True):
    """A browser signed in to the web desk: only the cookie's SHA-256 is kept."""

    __tablename__ = "web_sessions"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    channel: str = Field(max_length=20, index=True)
    user_id: str = Field(max_length=64, index=True)
    created_at: datetime = when(default_factory=clock.now)
    expires_at: datetime = when()
    ended_at: datetime | None = when(default=None, nullable=True)


class DeskJob(SQLModel, table=True):
    """A web desk job's progress and result (bot.web_desk.jobs), kept in the database so
    that whichever process a browser reaches can show it: the job id's SHA-256, never the
    id itself."""

    __tablename__ = "desk_jobs"
    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(max_length=64, unique=True)
    owner: str = Field(max_length=100)
    title: str = Field(max_length=200)
    done: int = 0
    total: int = 0
    finished: bool = False
    ok: bool = True
    message: str = Field(default="", max_length=2000)
    file: str = Field(default="", max_length=500)  # relative to the data folder when inside it
    filename: str = Field(default="", max_length=200)
    back: str = Field(default="", max_length=1000)
    started_at: datetime = when(default_factory=clock.now, index=True)
    updated_at: datetime = when(default_factory=clock.now)


class DeploymentFact(SQLModel, table=True):
    """A fact every process of one installation must agree on (the pseudonym key's
    fingerprint); a process that disagrees refuses to start."""

    __tablename__ = "deployment_facts"
    name: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=200)
