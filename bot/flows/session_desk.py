"""Staff side of dialogue sessions in the chat: the desk, tickets checked at the door
(/checkin), registrations and questions grouped by hamlet (in as many messages as it takes),
the outcome. Announcing a session is in bot.flows.session_announce.

The role is checked at every step. Imports no channel library.
"""

from __future__ import annotations

from bot.flows import menu, session_announce, sessions
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import main_menu_button, record_refusal, reoffer
from bot.messages import Button
from bot.services import session_outcome, session_tickets
from bot.services import session_rules as rules
from bot.services import sessions as service
from storage.repositories import DialogueSessions, Hamlets, SessionQuestions, SessionRegistrations

MAX_SHOWN_QUESTION = 300
MAX_MESSAGE = 3_500  # stays under Telegram's 4,096 and reads well on a phone


async def not_allowed(ctx: Ctx) -> object:
    """A resident tried a staff action."""
    record_refusal(ctx, "session desk")
    return menu.show(ctx, ctx._("Only commune staff can do this."))


async def open_desk(ctx: Ctx) -> object:
    """The staff menu entry: announce, check in, or open a session to manage it."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    ctx.data.clear()
    items = await DialogueSessions(ctx.session).listing(10)
    buttons = [Button(ctx._("Announce a session"), "desk:new"),
               Button(ctx._("Check in tickets"), "desk:checkin")]
    buttons += [Button(f"#{item.id} {sessions.short(item.topic)}", f"ss:open:{item.id}")
                for item in items if item.status == rules.SCHEDULED]
    ctx.say(ctx._("Dialogue sessions, staff desk. Open a session to see its registrations and "
                  "questions or to publish its outcome:"), *buttons, main_menu_button(ctx))
    return desk


async def desk(ctx: Ctx) -> object:
    """A choice on the staff desk."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    if ctx.chosen == "desk:new":
        return session_announce.ask_topic(ctx)
    if ctx.chosen == "desk:checkin":
        return await start_checkin(ctx)
    if (session_id := sessions.number(ctx.chosen, "ss:open:")) is not None:
        return await sessions.show_session(ctx, session_id)
    return reoffer(ctx)


# --- check-in at the door -------------------------------------------------------------------


async def start_checkin(ctx: Ctx) -> object:
    """/checkin [CODE]: check a ticket, then keep asking for the next one."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    if ctx.msg.command and ctx.msg.args:
        return await _check(ctx, ctx.msg.args)
    ctx.say(ctx._("Check-in at the door: type the ticket code (8 characters)."),
            main_menu_button(ctx))
    return ticket


async def ticket(ctx: Ctx) -> object:
    """A ticket code typed at the door."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    return await _check(ctx, ctx.msg.text)


async def _check(ctx: Ctx, code: str) -> object:
    try:
        registration = await session_tickets.check_in(ctx.session, code, now=ctx.now,
                                                      timezone=ctx.timezone)
    except service.SessionError as exc:
        text = "❌ " + exc.translated(ctx._)
    else:
        item = await DialogueSessions(ctx.session).get(registration.session_id)
        text = ctx._("✅ Checked in: {name} for “{topic}”.").format(
            name=registration.name, topic=item.topic if item else "—")
    ctx.say(text + "\n\n" + ctx._("Next ticket code, or “Main menu” to stop:"),
            main_menu_button(ctx))
    return ticket


# --- registrations, questions, outcome ------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _pages(lines: list[str]) -> list[str]:
    """The lines in as many messages as it takes, each under MAX_MESSAGE, cut between
    lines (a line longer than that is cut itself: questions are shortened already)."""
    pages, page = [], ""
    for line in lines:
        line = _cut(line, MAX_MESSAGE)
        if page and len(page) + 1 + len(line) > MAX_MESSAGE:
            pages.append(page)
            page = line.lstrip("\n")
        else:
            page = f"{page}\n{line}" if page else line
    return [*pages, page]


async def show_registrations(ctx: Ctx) -> object:
    """Who registered and what they asked, grouped by hamlet."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    if item is None:
        return await open_desk(ctx)
    hamlets = {h.id: h.name for h in await Hamlets(ctx.session).all()}
    registrations = await SessionRegistrations(ctx.session).with_status(item.id,
                                                                        *rules.ACTIVE)
    questions = await SessionQuestions(ctx.session).of_session(item.id)
    seats = await service.seats(ctx.session, item)
    nowhere = ctx._("(no hamlet)")
    lines = [ctx._("“{topic}”: {taken}/{seats} seats taken, {waiting} waiting, {present} "
                   "checked in.").format(
        topic=item.topic, taken=seats.taken, seats=seats.open, waiting=seats.waiting,
        present=sum(r.checked_in_at is not None for r in registrations))]
    for hamlet, rows in service.grouped_by_hamlet(registrations, hamlets, nowhere).items():
        lines.append(f"\n{hamlet} ({len(rows)})")
        for row in rows:
            mark = "✅" if row.checked_in_at else ("⏳" if row.status == rules.WAITLISTED
                                                  else "•")
            lines.append(f"{mark} {row.name} — {row.ticket}")
    lines.append("\n" + ctx._("Questions ({count}):").format(count=len(questions)))
    for hamlet, rows in service.grouped_by_hamlet(questions, hamlets, nowhere).items():
        lines.append(f"\n{hamlet} ({len(rows)})")
        lines += [f"- {_cut(row.text, MAX_SHOWN_QUESTION)}" for row in rows]
    messages = _pages(lines)
    for text in messages[:-1]:
        ctx.say(text)
    ctx.say(messages[-1], Button(ctx._("Back"), "ss:detail"), main_menu_button(ctx))
    return sessions.detail


async def ask_outcome(ctx: Ctx) -> object:
    """Ask for the outcome text (after the session has started)."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    ctx.say(ctx._("Type the outcome of the session: a summary and the answers to the "
                  "questions. It is sent to everyone who registered or asked, and published "
                  "as public information (item 11)."),
            Button(ctx._("Back"), "ss:detail"), main_menu_button(ctx))
    return outcome


async def outcome(ctx: Ctx) -> object:
    """Publish the outcome."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    if ctx.chosen == "ss:detail":
        return await sessions.show_again(ctx)
    if not ctx.msg.text.strip():
        ctx.say(ctx._("Please type the outcome as text."), *ctx.offered)
        return STAY
    try:
        told, item = await session_outcome.close(
            ctx.session, ctx.data.get("id", 0), ctx.msg.text,
            actor=f"{ctx.msg.channel}:{ctx.msg.user_id}", now=ctx.now, timezone=ctx.timezone)
    except service.SessionError as exc:
        return await sessions.show_again(ctx, exc.translated(ctx._))
    note = ctx._("The outcome is published (public information number {number}). People to be "
                 "told: {count}.").format(number=item.outcome_disclosure_id, count=told)
    if rules.late_outcome(item, ctx.now):
        note += "\n⚠️ " + ctx._("This is more than 10 days after the session; the results should "
                                "be published within 10 days.")
    return await sessions.show_again(ctx, note)


FLOW = Flow.of("session_desk", desk, ticket, outcome, *session_announce.STEPS)
