"""Questions sent in advance to a dialogue session: at most 3 per registrant, each of at most
1,000 characters, and withdrawn by the person who sent them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_
from bot.services.session_rules import (
    ACTIVE,
    MAX_QUESTION,
    MAX_QUESTIONS,
    SessionError,
    require_scheduled,
)
from bot.textfold import nfc
from storage.models import SessionQuestion, SessionRegistration, User
from storage.repositories import DialogueSessions, SessionQuestions


async def add_question(session: AsyncSession, registration: SessionRegistration, text: str,
                       *, now: datetime) -> SessionQuestion:
    """Store a question sent in advance (at most 3 per registrant, 1,000 characters each)."""
    item = await DialogueSessions(session).get(registration.session_id)
    require_scheduled(item)
    if registration.status not in ACTIVE:
        raise SessionError(N_("Only people registered for the session can send questions."))
    text = nfc(text.strip())
    if not text:
        raise SessionError(N_("Please type your question as text."))
    if len(text) > MAX_QUESTION:
        raise SessionError(N_("Your question has {count} characters; please shorten it to "
                              "1,000."), count=len(text))
    questions = SessionQuestions(session)
    if len(await questions.of_registration(registration.id)) >= MAX_QUESTIONS:
        raise SessionError(N_("You have already sent 3 questions, the most allowed. You can "
                              "withdraw one to send another."))
    return await questions.add(SessionQuestion(
        session_id=registration.session_id, registration_id=registration.id,
        user_id=registration.user_id, hamlet_id=registration.hamlet_id, text=text,
        created_at=now))


async def withdraw_question(session: AsyncSession, question_id: int, user: User, *,
                            now: datetime) -> SessionQuestion:
    """Withdraw one of my questions."""
    question = await SessionQuestions(session).get(question_id)
    if question is None or question.user_id != user.id:
        raise SessionError(N_("This question is not yours."))
    if question.status != "active":
        raise SessionError(N_("This question was already withdrawn."))
    question.status, question.withdrawn_at = "withdrawn", now
    session.add(question)
    await session.flush()
    return question
