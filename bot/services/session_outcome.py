"""The outcome of a dialogue session: published as a disclosure (item 11), the session
closed, and registrants and askers told (../shared/DOMAIN.md §5).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import format_datetime, translations
from bot.services import disclosures, sessions
from bot.services import session_notices as notices
from bot.services.session_reminders import drop_reminders
from bot.services.session_rules import ACTIVE, CLOSED, SessionError, require_scheduled
from bot.textfold import nfc
from storage.models import DialogueSession
from storage.repositories import (
    DialogueSessions,
    InteractionLogs,
    SessionQuestions,
    SessionRegistrations,
)


async def close(session: AsyncSession, session_id: int, outcome: str, *, actor: str,
                now: datetime, timezone: str, locale: str = "vi"
                ) -> tuple[int, DialogueSession]:
    """Publish the outcome: registrants and askers are told; it becomes a disclosure (item 11).

    Returns how many people will be told, and the session.
    """
    item = await sessions.locked(session, session_id)
    require_scheduled(item)
    outcome = nfc(outcome.strip())
    if not outcome:
        raise SessionError("the outcome text is empty")
    if item.starts_at > now:
        raise SessionError("the session has not taken place yet (it starts {at})",
                           at=format_datetime(item.starts_at, "en", timezone))
    _ = translations(locale).gettext
    published = await disclosures.publish(session, disclosures.Draft(
        category=11, title=_("Outcome of the dialogue session: {topic}").format(
            topic=item.topic)[:disclosures.MAX_TITLE],
        body=outcome, decided_on=item.starts_at.astimezone(ZoneInfo(timezone)).date(),
    ), actor=actor, now=now, timezone=timezone)
    item.status, item.outcome, item.outcome_at = CLOSED, outcome, now
    item.outcome_disclosure_id = published.id
    await DialogueSessions(session).save(item)
    await drop_reminders(session, item.id)
    people = {r.user_id for r in await SessionRegistrations(session).with_status(
        item.id, *ACTIVE)}
    people |= {q.user_id for q in await SessionQuestions(session).of_session(item.id)}
    told = 0
    for user_id in sorted(p for p in people if p is not None):
        told += await notices.notify(
            session, user_id, f"session:{item.id}:outcome:{user_id}", "session_outcome",
            lambda _, loc: _("The outcome of the dialogue session “{topic}” has been published, "
                             "with the answers to the questions sent in advance.").format(
                topic=item.topic),
            session_id=item.id,
        )
    InteractionLogs(session).admin("session_close", f"#{item.id} disclosure #{published.id}",
                                   actor, now=now)
    return told, item
