"""Questions sent in advance to a dialogue session: ask one (up to 3 per person), see mine,
withdraw one.

Steps of the "sessions" flow (bot.flows.sessions), which shows the session around them.
"""

from __future__ import annotations

# bot.flows.sessions imports this module: its names are read at call time.
from bot.flows import sessions
from bot.flows.base import STAY, Ctx
from bot.flows.common import main_menu_button, reoffer
from bot.messages import Button
from bot.services import session_questions as service
from bot.services import session_rules as rules
from bot.services.session_rules import SessionError
from storage.repositories import DialogueSessions, SessionQuestions


async def ask_question(ctx: Ctx) -> object:
    """Ask for the question's text (up to 3 per person)."""
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await sessions.my_registration(ctx, item) if item else None
    if mine is None or not sessions.is_open(item, ctx):
        return await sessions.show_again(ctx)
    sent = len(await SessionQuestions(ctx.session).of_registration(mine.id))
    if sent >= rules.MAX_QUESTIONS:
        return await show_questions(ctx, ctx._(
            "You have already sent 3 questions, the most allowed. You can withdraw one to send "
            "another."))
    ctx.say(ctx._("Type your question for the leaders (up to 1,000 characters). You can send "
                  "{left} more. Questions are grouped by hamlet and answered at the session or "
                  "in its published outcome.").format(left=rules.MAX_QUESTIONS - sent),
            Button(ctx._("Back"), "ss:detail"), main_menu_button(ctx))
    return question


async def question(ctx: Ctx) -> object:
    """Store the question, or say why not."""
    if ctx.chosen == "ss:detail":
        return await sessions.show_again(ctx)
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await sessions.my_registration(ctx, item) if item else None
    if mine is None:
        return await sessions.show_again(ctx)
    try:
        await service.add_question(ctx.session, mine, ctx.msg.text, now=ctx.now)
    except SessionError as exc:
        if len(ctx.msg.text.strip()) > rules.MAX_QUESTION or not ctx.msg.text.strip():
            ctx.say(exc.translated(ctx._), *ctx.offered)
            return STAY
        return await sessions.show_again(ctx, exc.translated(ctx._))
    return await sessions.show_again(ctx, ctx._("Thank you, your question was received."))


async def show_questions(ctx: Ctx, intro: str = "") -> object:
    """My questions, each with a button to withdraw it."""
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await sessions.my_registration(ctx, item) if item else None
    if mine is None:
        return await sessions.show_again(ctx)
    found = await SessionQuestions(ctx.session).of_registration(mine.id)
    lines = [intro, ""] if intro else []
    lines.append(ctx._("Your questions for “{topic}”:").format(topic=item.topic)
                 if found else ctx._("You have no questions left for this session."))
    lines += [f"{n}. {q.text}" for n, q in enumerate(found, 1)]
    buttons = [Button(ctx._("Withdraw question {number}").format(number=n), f"ss:withdraw:{q.id}")
               for n, q in enumerate(found, 1)]
    ctx.say("\n".join(lines).strip(), *buttons, Button(ctx._("Back"), "ss:detail"),
            main_menu_button(ctx))
    return questions


async def questions(ctx: Ctx) -> object:
    """Withdraw one question, or go back."""
    if ctx.chosen == "ss:detail":
        return await sessions.show_again(ctx)
    if (question_id := sessions.number(ctx.chosen, "ss:withdraw:")) is None:
        return reoffer(ctx)
    try:
        await service.withdraw_question(ctx.session, question_id, ctx.user, now=ctx.now)
    except SessionError as exc:
        return await show_questions(ctx, exc.translated(ctx._))
    return await show_questions(ctx, ctx._("The question was withdrawn."))
