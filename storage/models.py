"""SQLModel tables. Times are stored as UTC and read back timezone-aware."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from storage import clock, search


class UTCDateTime(TypeDecorator):
    """Naive UTC in the database (SQLite has no zones), aware UTC in Python."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _when(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime(), **kw)


class Commune(SQLModel, table=True):
    """The commune or ward this deployment serves (one row today)."""

    __tablename__ = "communes"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    unit_type: str = Field(max_length=20)  # xã | phường | đặc khu
    province: str = Field(default="", max_length=200)
    office_address: str = Field(default="", max_length=500)
    office_phone: str = Field(default="", max_length=50)
    office_email: str = Field(default="", max_length=200)
    # Optional sections of the commune file: {"petitions": {...}, "calendar": {...}}
    options: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = _when(default_factory=clock.now)


class Hamlet(SQLModel, table=True):
    """A thôn / tổ dân phố / khu of the commune; `code` is its stable id."""

    __tablename__ = "hamlets"
    id: int | None = Field(default=None, primary_key=True)
    commune_id: int = Field(foreign_key="communes.id", index=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    label: str = Field(default="thôn", max_length=40)
    position: int = 0
    active: bool = True


class User(SQLModel, table=True):
    """One channel identity. Personal fields stay empty until consent."""

    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("channel", "external_id", name="uq_users_identity"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=100)
    locale: str = Field(default="vi", max_length=10)
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    display_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    consent_version: str | None = Field(default=None, max_length=20)
    consent_at: datetime | None = _when(default=None, nullable=True)
    consent_declined_at: datetime | None = _when(default=None, nullable=True)
    onboarded_at: datetime | None = _when(default=None, nullable=True)
    created_at: datetime = _when(default_factory=clock.now)
    blocked_at: datetime | None = _when(default=None, nullable=True)  # blocked the bot


class Consent(SQLModel, table=True):
    """Proof of a consent decision: what was shown (version), when, on which channel."""

    __tablename__ = "consents"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    purpose: str = Field(max_length=40)  # "privacy_notice", later "notifications"…
    version: str = Field(max_length=20)
    granted: bool
    channel: str = Field(max_length=20)
    at: datetime = _when(default_factory=clock.now)


class Conversation(SQLModel, table=True):
    """Where a user is in a flow, and the buttons they were last offered."""

    __tablename__ = "conversations"
    __table_args__ = (sa.UniqueConstraint("channel", "user_id", name="uq_conversations_user"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    user_id: str = Field(max_length=100)
    flow: str | None = Field(default=None, max_length=60)
    step: str | None = Field(default=None, max_length=60)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    buttons: list[list[str]] = Field(default_factory=list, sa_type=sa.JSON)
    # The last turn when it was a button press: {"offer", "payload", "replies"}, so that a
    # second tap on the same button of the same message gets the same answer.
    last_press: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    updated_at: datetime = _when(default_factory=clock.now)


class RoleGrant(SQLModel, table=True):
    """A role held by a channel identity; hamlet heads hold one row per hamlet."""

    __tablename__ = "role_grants"
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    user_id: str = Field(max_length=100, index=True)
    role: str = Field(max_length=20)
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    granted_by: str = Field(default="", max_length=120)
    granted_at: datetime = _when(default_factory=clock.now)
    name: str | None = Field(default=None, max_length=120)  # shown to colleagues ("Chị Lan")


class InteractionLog(SQLModel, table=True):
    """Append-only record of every event in and reply out, for accountability reports.

    `user_ref` is a keyed hash, never the channel id; `text` holds only commands and
    button labels, never free text typed inside a flow: a step asking personal data gives
    "[đã ẩn]" and its buttons' payloads, and the turns of sending or following a petition
    have no reference, hamlet or text (bot.flows.UNLINKED_FLOWS).
    """

    __tablename__ = "interaction_log"
    # The web desk's filters read newest first within one kind or one actor (keyset on id).
    __table_args__ = (sa.Index("ix_interaction_log_kind_id", "kind", "id"),
                      sa.Index("ix_interaction_log_actor_id", "actor", "id"))
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(default_factory=clock.now, index=True)
    channel: str = Field(max_length=20)
    direction: str = Field(max_length=8)  # in | out | admin
    user_ref: str = Field(default="", max_length=32, index=True)
    hamlet_code: str | None = Field(default=None, max_length=64)
    flow: str | None = Field(default=None, max_length=60)
    step: str | None = Field(default=None, max_length=60)
    kind: str = Field(max_length=30)
    text: str | None = Field(default=None, max_length=500)
    latency_ms: int | None = None
    actor: str | None = Field(default=None, max_length=120)
    # The tamper-evident chain (bot.services.log_chain), filled in by the sealer: the
    # position, the digest of the text (so the text may be erased), the previous row's hash
    # and this row's keyed hash.
    chain_seq: int | None = Field(default=None, unique=True, index=True)
    text_digest: str | None = Field(default=None, max_length=64)
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)


class OutboxMessage(SQLModel, table=True):
    """A message to someone other than the person who just wrote, sent by the dispatcher.

    Written in the same transaction as the change that caused it; `dedup_key` makes an
    enqueue idempotent; `not_before` holds both "send later" and the retry backoff.
    """

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=100)
    text: str
    buttons: list[list[str]] = Field(default_factory=list, sa_type=sa.JSON)
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    kind: str = Field(default="notice", max_length=30)
    status: str = Field(default="pending", max_length=12)  # see bot.services.outbox
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    not_before: datetime = _when(default_factory=clock.now)
    created_at: datetime = _when(default_factory=clock.now)
    claimed_at: datetime | None = _when(default=None, nullable=True)
    sent_at: datetime | None = _when(default=None, nullable=True)
    dedup_key: str | None = Field(default=None, max_length=200, unique=True)
    broadcast_id: int | None = Field(default=None, index=True)  # a delivery of a broadcast


class Disclosure(SQLModel, table=True):
    """A public disclosure (Art. 11 of the Law on Implementing Grassroots Democracy).

    `category` is the Art. 11 item (1–14). `search_title`/`search_body` hold the folded
    text (no diacritics, đ -> d, lower case) that the full-text index covers.
    `posted_until` is None for permanent postings (items 4 and 13).
    """

    __tablename__ = "disclosures"
    __table_args__ = (sa.Index("ix_disclosures_browse", "category", "posted_from"),)
    id: int | None = Field(default=None, primary_key=True)
    category: int
    title: str = Field(max_length=300)
    body: str
    search_title: str = Field(default="", max_length=300)
    search_body: str = ""
    attachment: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    decided_on: date | None = None
    posted_from: datetime = _when()
    posted_until: datetime | None = _when(default=None, nullable=True)
    consult_until: datetime | None = _when(default=None, nullable=True)
    response: str | None = None
    response_at: datetime | None = _when(default=None, nullable=True)
    version: int = 1
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = _when(default_factory=clock.now)
    updated_at: datetime = _when(default_factory=clock.now)


class DisclosureRevision(SQLModel, table=True):
    """An earlier version of a disclosure, kept when it is changed (Art. 14)."""

    __tablename__ = "disclosure_revisions"
    id: int | None = Field(default=None, primary_key=True)
    disclosure_id: int = Field(foreign_key="disclosures.id", index=True)
    version: int
    title: str = Field(max_length=300)
    body: str
    attachment: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    posted_from: datetime = _when()
    posted_until: datetime | None = _when(default=None, nullable=True)
    consult_until: datetime | None = _when(default=None, nullable=True)
    changed_by: str = Field(default="", max_length=120)
    changed_at: datetime = _when(default_factory=clock.now)


class Subscription(SQLModel, table=True):
    """A resident's opt-in to hear about new disclosures of one category."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "topic", name="uq_subscriptions_user_topic"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    topic: str = Field(max_length=40, index=True)  # "disclosure:7"
    created_at: datetime = _when(default_factory=clock.now)


class DisclosureComment(SQLModel, table=True):
    """A resident's comment on a disclosure open for consultation (Art. 25)."""

    __tablename__ = "disclosure_comments"
    id: int | None = Field(default=None, primary_key=True)
    disclosure_id: int = Field(foreign_key="disclosures.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    text: str
    created_at: datetime = _when(default_factory=clock.now)


class Petition(SQLModel, table=True):
    """A petition received through the bot: feedback, complaint or denunciation.

    `code` is the tracking code residents see (PA-2026-000123). A complaint's or
    denunciation's identity lives in PetitionIdentity, apart; `anonymous` feedback keeps
    `user_id` only so the sender can follow it, and staff never see who sent it.
    """

    __tablename__ = "petitions"
    __table_args__ = (sa.Index("ix_petitions_open", "status", "answer_due"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=20, unique=True)
    kind: str = Field(max_length=20)  # feedback | complaint | denunciation
    field: str = Field(max_length=40)
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id", index=True)
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = Field(default=None, max_length=300)
    description: str
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    anonymous: bool = False
    status: str = Field(default="received", max_length=20)
    assignee: str | None = Field(default=None, max_length=120)
    complex_case: bool = False
    remote_area: bool = False
    received_at: datetime = _when(default_factory=clock.now)
    accept_due: date
    answer_due: date
    rules_version: str = Field(default="", max_length=80)
    answer: str | None = None
    answer_files: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    answered_at: datetime | None = _when(default=None, nullable=True)
    rating: int | None = None
    closed_at: datetime | None = _when(default=None, nullable=True)
    updated_at: datetime = _when(default_factory=clock.now)


class DeskDraft(SQLModel, table=True):
    """What a staff member is giving on a petition from a chat, between messages: the reason
    for a refusal, where a petition is forwarded, or an answer (text and files) before it is
    sent. One per person and chat (a staff group and the private chat are apart)."""

    __tablename__ = "desk_drafts"
    __table_args__ = (sa.UniqueConstraint("channel", "chat_id", "user_id",
                                          name="uq_desk_drafts_person"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=100)
    user_id: str = Field(max_length=100)
    petition_id: int = Field(foreign_key="petitions.id")
    action: str = Field(max_length=20)  # answer | refuse | forward
    target: str | None = Field(default=None, max_length=300)  # forward: to whom
    text: str = ""
    files: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    updated_at: datetime = _when(default_factory=clock.now)


class PetitionIdentity(SQLModel, table=True):
    """Who filed a complaint or denunciation. A denouncer's identity is shown only to
    staff with the investigator role and never appears in staff chats, exports or logs."""

    __tablename__ = "petition_identities"
    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petitions.id", unique=True)
    full_name: str = Field(max_length=200)
    address: str = Field(max_length=300)
    phone: str | None = Field(default=None, max_length=30)


class PetitionEvent(SQLModel, table=True):
    """One step of a petition's timeline: a status change, an answer, a rating, a note."""

    __tablename__ = "petition_events"
    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petitions.id", index=True)
    at: datetime = _when(default_factory=clock.now)
    actor: str = Field(default="", max_length=120)
    kind: str = Field(max_length=20)  # status | answer | rating | assign | flag
    status: str | None = Field(default=None, max_length=20)
    note: str | None = None


class Broadcast(SQLModel, table=True):
    """A notice to hamlet groups and/or the opted-in residents of some hamlets (or all).

    One-off (`send_at`) or recurring (`cron`, a five-field crontab line in the commune's
    time zone). Each run becomes one outbox row per recipient (`OutboxMessage.broadcast_id`),
    which is the durable delivery queue; `next_run_at` says when the scheduler job runs it.
    """

    __tablename__ = "broadcasts"
    __table_args__ = (sa.Index("ix_broadcasts_due", "status", "next_run_at"),)
    id: int | None = Field(default=None, primary_key=True)
    text: str
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    hamlet_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)  # empty = all
    audience: str = Field(default="both", max_length=12)  # groups | residents | both
    urgent: bool = False
    cron: str | None = Field(default=None, max_length=100)
    status: str = Field(default="scheduled", max_length=12)  # scheduled|paused|done|cancelled
    next_run_at: datetime | None = _when(default=None, nullable=True)
    runs: int = 0
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = _when(default_factory=clock.now)
    # Who speaks, as the first line says: "UBND xã Chi Lăng", "Trưởng Khu Hòa Bình".
    sender: str = Field(default="", max_length=200)
    # Set when the notice invites residents to a dialogue session (announcing it).
    session_id: int | None = Field(default=None, foreign_key="dialogue_sessions.id",
                                   index=True)
    # The sender's chat, where "Đã gửi 120/500" is kept up to date (one message, edited).
    notify_channel: str | None = Field(default=None, max_length=20)
    notify_chat: str | None = Field(default=None, max_length=100)
    progress_ref: str | None = Field(default=None, max_length=100)
    progress_text: str | None = Field(default=None, max_length=300)
    progress_done: bool = False


search.attach_to(Disclosure.__table__)  # the full-text index lives and dies with the table
class GroupLink(SQLModel, table=True):
    """A group chat the bot serves: the staff chat, or a hamlet's group."""

    __tablename__ = "group_links"
    __table_args__ = (sa.UniqueConstraint("channel", "chat_id", name="uq_group_links_chat"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=100)
    kind: str = Field(max_length=12)  # staff | hamlet
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    title: str | None = Field(default=None, max_length=200)
    linked_by: str = Field(default="", max_length=120)
    linked_at: datetime = _when(default_factory=clock.now)


class InboundEvent(SQLModel, table=True):
    """A raw update as a channel delivered it, stored before it is processed.

    The unique (channel, event_id) makes a redelivered update a no-op; rows still
    "pending" after a crash are processed at the next start.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        sa.UniqueConstraint("channel", "event_id", name="uq_inbound_events_event"),
        sa.Index("ix_inbound_events_pending", "channel", "status"),
        sa.Index("ix_inbound_events_chat", "channel", "chat_key", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    event_id: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    status: str = Field(default="pending", max_length=12)  # pending | done | rejected
    received_at: datetime = _when(default_factory=clock.now)
    done_at: datetime | None = _when(default=None, nullable=True)
    chat_key: str | None = Field(default=None, max_length=100, nullable=True)
    # The replies the event's turn produced, written in the turn's transaction: a
    # redelivered event is answered with them again instead of being run a second time.
    outcome: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    lease_owner: str | None = Field(default=None, max_length=64, nullable=True)
    leased_until: datetime | None = _when(default=None, nullable=True)
    reason: str | None = Field(default=None, max_length=200, nullable=True)  # when rejected


class DialogueSession(SQLModel, table=True):
    """A dialogue session with the commune's leaders ("Dân bàn"; DOMAIN.md §5).

    `capacity` counts every seat, `reserved` those kept for invited guests; residents can
    take `capacity - reserved`. `reminders` are offsets like "1d@08:00" (the day before at
    08:00 local) or "2h" (two hours before). `version` grows with each change of time or
    place, so notices about a change are sent once per change.
    """

    __tablename__ = "dialogue_sessions"
    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=300)
    leaders: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    place: str = Field(max_length=300)
    online_link: str | None = Field(default=None, max_length=500)
    starts_at: datetime = _when(index=True)
    duration_minutes: int = 120
    capacity: int
    reserved: int = 0
    reminders: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    status: str = Field(default="scheduled", max_length=12)  # scheduled | cancelled | closed
    version: int = 1
    outcome: str | None = None
    outcome_at: datetime | None = _when(default=None, nullable=True)
    outcome_disclosure_id: int | None = Field(default=None, foreign_key="disclosures.id")
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = _when(default_factory=clock.now)
    updated_at: datetime = _when(default_factory=clock.now)


class SessionRegistration(SQLModel, table=True):
    """A resident's seat (or place on the waitlist) at a dialogue session.

    One row per (session, user): cancelling and registering again reuses it. `position`
    orders the waitlist. `ticket` is shown at the door and works once (`checked_in_at`).
    """

    __tablename__ = "session_registrations"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id", name="uq_session_registrations_user"),
        sa.Index("ix_session_registrations_seats", "session_id", "status", "position"),
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="dialogue_sessions.id")
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    name: str = Field(max_length=200)
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    phone: str | None = Field(default=None, max_length=30)
    ticket: str = Field(max_length=8, unique=True)
    status: str = Field(default="registered", max_length=12)  # registered|waitlisted|cancelled
    position: int = 0
    created_at: datetime = _when(default_factory=clock.now)
    updated_at: datetime = _when(default_factory=clock.now)
    checked_in_at: datetime | None = _when(default=None, nullable=True)


class SessionQuestion(SQLModel, table=True):
    """A question sent in advance by a registrant (at most 3 each), tagged by hamlet."""

    __tablename__ = "session_questions"
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="dialogue_sessions.id", index=True)
    registration_id: int = Field(foreign_key="session_registrations.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    hamlet_id: int | None = Field(default=None, foreign_key="hamlets.id")
    text: str
    status: str = Field(default="active", max_length=12)  # active | withdrawn
    created_at: datetime = _when(default_factory=clock.now)
    withdrawn_at: datetime | None = _when(default=None, nullable=True)


class SessionReminder(SQLModel, table=True):
    """A reminder due for one registration; the scheduler turns due rows into outbox messages.

    pending -> sent (with the outbox row's id) | cancelled (registration or time changed).
    """

    __tablename__ = "session_reminders"
    __table_args__ = (sa.Index("ix_session_reminders_due", "status", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="dialogue_sessions.id", index=True)
    registration_id: int = Field(foreign_key="session_registrations.id", index=True)
    kind: str = Field(max_length=20)  # the offset it came from: "1d@08:00", "2h"
    due_at: datetime = _when()
    status: str = Field(default="pending", max_length=12)
    outbox_id: int | None = None
    created_at: datetime = _when(default_factory=clock.now)
    sent_at: datetime | None = _when(default=None, nullable=True)


class ZaloOAToken(SQLModel, table=True):
    """The Zalo OA's OAuth pair (one row per app id) and a pending PKCE authorisation.

    The refresh token is single-use: each refresh replaces both tokens in one commit.
    """

    __tablename__ = "zalo_oa_tokens"
    app_id: str = Field(primary_key=True, max_length=40)
    access_token: str | None = Field(default=None, max_length=2000)
    refresh_token: str | None = Field(default=None, max_length=2000)
    expires_at: datetime | None = _when(default=None, nullable=True)
    refreshes: int = 0
    state: str | None = Field(default=None, max_length=64)  # of the pending authorisation
    code_verifier: str | None = Field(default=None, max_length=128)
    updated_at: datetime = _when(default_factory=clock.now)


class ZaloOAFollower(SQLModel, table=True):
    """A Zalo OA user: the last interaction (the messaging window) and the hamlet tag."""

    __tablename__ = "zalo_oa_followers"
    user_id: str = Field(primary_key=True, max_length=100)
    last_interaction_at: datetime | None = _when(default=None, nullable=True)
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
    created_at: datetime = _when(default_factory=clock.now)
    revoked_at: datetime | None = _when(default=None, nullable=True)
    last_used_at: datetime | None = _when(default=None, nullable=True)
    uses: int = 0


class WebSignIn(SQLModel, table=True):
    """A one-time link to the staff web desk, asked for in the chat: only its SHA-256 is
    kept; it is good once, for a few minutes."""

    __tablename__ = "web_sign_ins"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    channel: str = Field(max_length=20)
    user_id: str = Field(max_length=64)
    created_at: datetime = _when(default_factory=clock.now)
    expires_at: datetime = _when()
    used_at: datetime | None = _when(default=None, nullable=True)


class WebSession(SQLModel, table=True):
    """A browser signed in to the web desk: only the cookie's SHA-256 is kept."""

    __tablename__ = "web_sessions"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    channel: str = Field(max_length=20, index=True)
    user_id: str = Field(max_length=64, index=True)
    created_at: datetime = _when(default_factory=clock.now)
    expires_at: datetime = _when()
    ended_at: datetime | None = _when(default=None, nullable=True)


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
    started_at: datetime = _when(default_factory=clock.now, index=True)
    updated_at: datetime = _when(default_factory=clock.now)


class SendSlot(SQLModel, table=True):
    """The shared send budget of one bot or group (PostgreSQL, several processes): the
    earliest time, in seconds since the epoch on the database's clock, of its next free
    slot (bot.services.send_budget)."""

    __tablename__ = "send_slots"
    key: str = Field(primary_key=True, max_length=120)
    next_at: float = 0.0


class DeploymentFact(SQLModel, table=True):
    """A fact every process of one installation must agree on (the pseudonym key's
    fingerprint); a process that disagrees refuses to start."""

    __tablename__ = "deployment_facts"
    name: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=200)
