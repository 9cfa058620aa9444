"""Residents' comments on a disclosure open for consultation (Art. 25): whether it is open,
sending one (at most 5 a person, kept with the hamlet, without the name), and seeing and
withdrawing one's own until the deadline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.disclosures import DisclosureError
from bot.textfold import nfc
from storage.models import Disclosure, DisclosureComment, User
from storage.repositories import DisclosureComments, InteractionLogs

MAX_COMMENT = 2_000
MAX_COMMENTS_PER_PERSON = 5


def consultation_open(disclosure: Disclosure, now: datetime) -> bool:
    """True while residents may still comment (and withdraw their comments)."""
    return disclosure.consult_until is not None and now <= disclosure.consult_until


async def mine(session: AsyncSession, disclosure: Disclosure, user: User
               ) -> Sequence[DisclosureComment]:
    """A person's comments on a disclosure, oldest first."""
    return await DisclosureComments(session).of_user(disclosure.id, user.id)


async def left(session: AsyncSession, disclosure: Disclosure, user: User) -> int:
    """How many more comments the person may send on it."""
    sent = await DisclosureComments(session).count_by_user(disclosure.id, user.id)
    return max(0, MAX_COMMENTS_PER_PERSON - sent)


async def add_comment(session: AsyncSession, disclosure: Disclosure, user: User, text: str,
                      *, now: datetime) -> DisclosureComment:
    """Store a resident's comment, with their hamlet; refused after the deadline."""
    text = nfc(text.strip())
    if not consultation_open(disclosure, now):
        raise DisclosureError("the consultation is closed")
    if not text:
        raise DisclosureError("the comment is empty")
    if len(text) > MAX_COMMENT:
        raise DisclosureError(f"the comment is longer than {MAX_COMMENT} characters")
    if await left(session, disclosure, user) <= 0:
        raise DisclosureError("too many comments from one person on this disclosure")
    return await DisclosureComments(session).add(DisclosureComment(
        disclosure_id=disclosure.id, user_id=user.id, hamlet_id=user.hamlet_id, text=text,
        created_at=now,
    ))


async def withdraw(session: AsyncSession, disclosure: Disclosure, user: User, comment_id: int,
                   *, now: datetime) -> None:
    """Withdraw one's own comment before the deadline: it is deleted, as if never sent, and
    no longer counts towards the 5; the log keeps that one was withdrawn, not its text."""
    if not consultation_open(disclosure, now):
        raise DisclosureError("the consultation is closed")
    comment = next((c for c in await mine(session, disclosure, user) if c.id == comment_id),
                   None)
    if comment is None:
        raise DisclosureError("no such comment of this person")
    await DisclosureComments(session).delete(comment)
    InteractionLogs(session).admin("comment_withdrawn", f"#{disclosure.id}", "resident",
                                   channel=user.channel, now=now)
