"""Repositories of the core tables: commune, hamlets, users, consents, conversations,
roles and the interaction log. Nothing here commits: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import clock
from storage.models import (
    Commune,
    Consent,
    Conversation,
    Hamlet,
    InteractionLog,
    RoleGrant,
    User,
)


class Communes:
    """The commune row (one per deployment for now)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> Commune | None:
        """The commune this deployment serves, or None before `init`."""
        return (await self.session.exec(select(Commune).order_by(Commune.id))).first()

    async def save(self, commune: Commune) -> Commune:
        """Insert or update the commune."""
        commune.updated_at = clock.now()
        self.session.add(commune)
        await self.session.flush()
        return commune


class Hamlets:
    """Hamlets (thôn, tổ dân phố, khu…) in display order."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self) -> Sequence[Hamlet]:
        """Hamlets residents can choose, in the commune file's order."""
        query = select(Hamlet).where(Hamlet.active).order_by(Hamlet.position, Hamlet.id)
        return (await self.session.exec(query)).all()

    async def all(self) -> Sequence[Hamlet]:
        """Every hamlet, including retired ones."""
        return (await self.session.exec(select(Hamlet).order_by(Hamlet.position))).all()

    async def get(self, hamlet_id: int | None) -> Hamlet | None:
        """The hamlet with this id, or None."""
        return None if hamlet_id is None else await self.session.get(Hamlet, hamlet_id)

    async def by_code(self, code: str) -> Hamlet | None:
        """The hamlet with this stable code, or None."""
        return (await self.session.exec(select(Hamlet).where(Hamlet.code == code))).first()

    async def add(self, hamlet: Hamlet) -> Hamlet:
        """Insert or update a hamlet."""
        self.session.add(hamlet)
        await self.session.flush()
        return hamlet


class Users:
    """Channel identities and their personal fields."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: str, external_id: str) -> User | None:
        """The user for this channel identity, or None."""
        query = select(User).where(User.channel == channel, User.external_id == external_id)
        return (await self.session.exec(query)).first()

    async def get_or_create(self, channel: str, external_id: str, locale: str) -> User:
        """The user for this identity, created with `locale` on first contact."""
        user = await self.get(channel, external_id)
        if user is None:
            user = User(channel=channel, external_id=external_id, locale=locale)
            self.session.add(user)
            await self.session.flush()
        return user

    async def count(self) -> int:
        """How many channel identities we know."""
        return (await self.session.exec(select(sa.func.count()).select_from(User))).one()


class Consents:
    """Consent decisions, kept as proof."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, user: User, *, purpose: str, version: str, granted: bool, at: datetime
    ) -> Consent:
        """Store one decision."""
        consent = Consent(
            user_id=user.id, purpose=purpose, version=version, granted=granted,
            channel=user.channel, at=at,
        )
        self.session.add(consent)
        await self.session.flush()
        return consent

    async def of_user(self, user_id: int) -> Sequence[Consent]:
        """A user's decisions, oldest first."""
        query = select(Consent).where(Consent.user_id == user_id).order_by(Consent.id)
        return (await self.session.exec(query)).all()


class Conversations:
    """Conversation state, one row per (channel, user)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, channel: str, user_id: str) -> Conversation | None:
        """The saved state, or None."""
        query = select(Conversation).where(
            Conversation.channel == channel, Conversation.user_id == user_id
        )
        return (await self.session.exec(query)).first()

    async def save(self, conversation: Conversation) -> None:
        """Insert or update the state."""
        conversation.updated_at = clock.now()
        self.session.add(conversation)
        await self.session.flush()


class RoleGrants:
    """Who holds which role (and for which hamlets)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, channel: str, user_id: str) -> Sequence[RoleGrant]:
        """Every grant of one channel identity."""
        query = select(RoleGrant).where(
            RoleGrant.channel == channel, RoleGrant.user_id == user_id
        )
        return (await self.session.exec(query)).all()

    async def grant(
        self, channel: str, user_id: str, role: str, hamlet_id: int | None, granted_by: str,
        name: str | None = None,
    ) -> bool:
        """Add the grant unless it exists; True when something was added. A `name` is given
        to every grant of the identity (the name colleagues see)."""
        held = await self.of(channel, user_id)
        if name:
            for existing in held:
                existing.name = name
                self.session.add(existing)
        for existing in held:
            if existing.role == role and existing.hamlet_id == hamlet_id:
                await self.session.flush()
                return False
        self.session.add(
            RoleGrant(channel=channel, user_id=user_id, role=role, hamlet_id=hamlet_id,
                      granted_by=granted_by,
                      name=name or next((g.name for g in held if g.name), None))
        )
        await self.session.flush()
        return True

    async def holders(self, roles: Sequence[str]) -> Sequence[RoleGrant]:
        """Every grant of these roles, oldest first."""
        query = select(RoleGrant).where(col(RoleGrant.role).in_(roles)).order_by(RoleGrant.id)
        return (await self.session.exec(query)).all()

    async def revoke(
        self, channel: str, user_id: str, role: str, hamlet_ids: Sequence[int] = ()
    ) -> int:
        """Remove the role (only for these hamlets when given); returns rows removed."""
        removed = 0
        for existing in await self.of(channel, user_id):
            if existing.role == role and (not hamlet_ids or existing.hamlet_id in hamlet_ids):
                await self.session.delete(existing)
                removed += 1
        await self.session.flush()
        return removed


class InteractionLogs:
    """The append-only interaction log."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def append(self, entry: InteractionLog) -> None:
        """Add one row; it is written with the caller's transaction."""
        self.session.add(entry)

    def admin(self, kind: str, text: str, actor: str, channel: str | None = None, *,
              now: datetime | None = None) -> None:
        """Record a staff or shell action at the caller's `now` (the one clock's when not
        given); the channel defaults to the actor's own ("telegram:123" -> telegram, a shell
        operator -> cli)."""
        channel = channel or actor.partition(":")[0] or "cli"
        self.append(InteractionLog(at=now or clock.now(), channel=channel[:20],
                                   direction="admin", kind=kind, text=text, actor=actor))

    async def all(self) -> Sequence[InteractionLog]:
        """Every row in order (tests and small exports)."""
        return (await self.session.exec(select(InteractionLog).order_by(InteractionLog.id))).all()
