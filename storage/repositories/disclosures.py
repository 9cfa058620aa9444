"""Repositories of public disclosures, their comments and followers. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import clock, search
from storage.models import (
    Disclosure,
    DisclosureComment,
    DisclosureRevision,
    Subscription,
    User,
)
from storage.textfold import fold


def _current(now: datetime) -> sa.ColumnElement[bool]:
    """Disclosures on the board at `now`: posted, and not past their posting period."""
    return sa.and_(
        col(Disclosure.posted_from) <= now,
        sa.or_(col(Disclosure.posted_until).is_(None), col(Disclosure.posted_until) >= now),
    )


class Disclosures:
    """Public disclosures: browsing by category, search, history."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, disclosure_id: int) -> Disclosure | None:
        """The disclosure with this id, or None."""
        return await self.session.get(Disclosure, disclosure_id)

    async def save(self, disclosure: Disclosure) -> Disclosure:
        """Insert or update; keeps the folded search columns in step with the text."""
        disclosure.search_title = fold(disclosure.title)[:300]
        disclosure.search_body = fold(disclosure.body)
        disclosure.updated_at = clock.now()
        self.session.add(disclosure)
        await self.session.flush()
        return disclosure

    async def keep_revision(self, disclosure: Disclosure, changed_by: str) -> None:
        """Store the disclosure as it is now, before it changes."""
        self.session.add(DisclosureRevision(
            disclosure_id=disclosure.id, version=disclosure.version, title=disclosure.title,
            body=disclosure.body, attachment=disclosure.attachment,
            posted_from=disclosure.posted_from, posted_until=disclosure.posted_until,
            consult_until=disclosure.consult_until, changed_by=changed_by,
        ))
        await self.session.flush()

    async def revisions(self, disclosure_id: int) -> Sequence[DisclosureRevision]:
        """Earlier versions, oldest first."""
        query = (select(DisclosureRevision)
                 .where(DisclosureRevision.disclosure_id == disclosure_id)
                 .order_by(DisclosureRevision.version))
        return (await self.session.exec(query)).all()

    async def counts_by_category(self, now: datetime) -> dict[int, int]:
        """How many disclosures are on the board per category."""
        query = (select(Disclosure.category, sa.func.count()).where(_current(now))
                 .group_by(Disclosure.category))
        return dict((await self.session.exec(query)).all())

    async def on_board(self, category: int, now: datetime, *, offset: int, limit: int
                       ) -> Sequence[Disclosure]:
        """A page of a category's current disclosures, newest first."""
        query = (select(Disclosure).where(Disclosure.category == category, _current(now))
                 .order_by(col(Disclosure.posted_from).desc(), col(Disclosure.id).desc())
                 .offset(offset).limit(limit))
        return (await self.session.exec(query)).all()

    async def search(self, query: str, now: datetime, *, limit: int) -> list[Disclosure]:
        """Published disclosures matching `query` (all words, else any), best first.

        Archived ones (past their posting period) are included; future ones are not.
        Common words are ranked among the newest `search.RECENT_WINDOW` disclosures first.
        """
        words = search.terms(query)
        if not words:
            return []
        dialect = self.session.bind.dialect.name
        newest = (await self.session.exec(select(sa.func.max(Disclosure.id)))).one() or 0
        floors = [newest - search.RECENT_WINDOW, 0] if newest > search.RECENT_WINDOW else [0]
        for every in (True, False) if len(words) > 1 else (True,):
            match = search.match_expression(dialect, words, every)
            for floor in floors:
                rows = (await self.session.exec(search.ranked_ids(dialect).bindparams(
                    match=match, floor=floor, limit=limit + 10))).all()
                found = await self._published(rows, now)
                if len(found) >= limit or (found and floor == 0):
                    return found[:limit]
        return []

    async def _published(self, ranked: Sequence[Any], now: datetime) -> list[Disclosure]:
        """The disclosures behind ranked (id, rank) rows, posted by `now`; ties newest first."""
        if not ranked:
            return []
        ids = [row[0] for row in ranked]
        rows = (await self.session.exec(select(Disclosure).where(col(Disclosure.id).in_(ids)))
                ).all()
        rank = {row[0]: row[1] for row in ranked}
        posted = [d for d in rows if d.posted_from <= now]
        posted.sort(key=lambda d: (rank[d.id], -d.posted_from.timestamp(), -d.id))
        return posted

    async def posted_between(self, start: datetime, end: datetime) -> Sequence[Disclosure]:
        """Disclosures first posted in [start, end), in posting order (quarterly list)."""
        query = (select(Disclosure)
                 .where(col(Disclosure.posted_from) >= start, col(Disclosure.posted_from) < end)
                 .order_by(Disclosure.posted_from, Disclosure.id))
        return (await self.session.exec(query)).all()

    async def listing(self, limit: int = 50) -> Sequence[Disclosure]:
        """The newest disclosures, for staff."""
        query = select(Disclosure).order_by(col(Disclosure.id).desc()).limit(limit)
        return (await self.session.exec(query)).all()


class Subscriptions:
    """Residents' opt-ins to notices by topic ("disclosure:7")."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def topics_of(self, user_id: int) -> set[str]:
        """The topics a user follows."""
        query = select(Subscription.topic).where(Subscription.user_id == user_id)
        return set((await self.session.exec(query)).all())

    async def subscribe(self, user_id: int, topic: str) -> bool:
        """Follow a topic; False when already followed."""
        if topic in await self.topics_of(user_id):
            return False
        self.session.add(Subscription(user_id=user_id, topic=topic))
        await self.session.flush()
        return True

    async def unsubscribe(self, user_id: int, topic: str | None = None) -> int:
        """Stop following one topic (or every topic); returns rows removed."""
        statement = sa.delete(Subscription).where(col(Subscription.user_id) == user_id)
        if topic is not None:
            statement = statement.where(col(Subscription.topic) == topic)
        return (await self.session.exec(statement)).rowcount

    async def subscribers(self, topic: str) -> Sequence[User]:
        """The users following a topic, oldest subscription first."""
        query = (select(User).join(Subscription, col(Subscription.user_id) == col(User.id))
                 .where(Subscription.topic == topic).order_by(Subscription.id))
        return (await self.session.exec(query)).all()


class DisclosureComments:
    """Residents' comments on disclosures open for consultation."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, comment: DisclosureComment) -> DisclosureComment:
        """Store one comment."""
        self.session.add(comment)
        await self.session.flush()
        return comment

    async def of(self, disclosure_id: int) -> Sequence[DisclosureComment]:
        """A disclosure's comments, oldest first."""
        query = (select(DisclosureComment)
                 .where(DisclosureComment.disclosure_id == disclosure_id)
                 .order_by(DisclosureComment.id))
        return (await self.session.exec(query)).all()

    async def of_user(self, disclosure_id: int, user_id: int) -> Sequence[DisclosureComment]:
        """One user's comments on one disclosure, oldest first."""
        query = (select(DisclosureComment)
                 .where(DisclosureComment.disclosure_id == disclosure_id,
                        DisclosureComment.user_id == user_id)
                 .order_by(DisclosureComment.id))
        return (await self.session.exec(query)).all()

    async def delete(self, comment: DisclosureComment) -> None:
        """Remove a comment (withdrawn by its author before the deadline)."""
        await self.session.delete(comment)
        await self.session.flush()

    async def count_by_user(self, disclosure_id: int, user_id: int) -> int:
        """How many comments one user left on one disclosure."""
        query = select(sa.func.count()).select_from(DisclosureComment).where(
            DisclosureComment.disclosure_id == disclosure_id,
            DisclosureComment.user_id == user_id,
        )
        return (await self.session.exec(query)).one()

    async def forget_user(self, user_id: int) -> None:
        """Detach a user's comments from them (delete my data); the text stays, anonymous."""
        await self.session.exec(
            sa.update(DisclosureComment).where(col(DisclosureComment.user_id) == user_id)
            .values(user_id=None)
        )
