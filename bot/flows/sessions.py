"""Dialogue sessions ("Đối thoại"): upcoming sessions, register for a seat or the waiting
list, the ticket (code and QR image), questions in advance, my registrations, cancel.

Name and hamlet are asked only when registering, with the reason. Imports no channel library.
Registering, the ticket and cancelling are in bot.flows.session_registration, questions in
bot.flows.session_questions: steps of this flow too.
"""

from __future__ import annotations

from bot.flows import session_questions, session_registration
from bot.flows.base import Ctx, Flow
from bot.flows.common import main_menu_button, reoffer, shorten
from bot.messages import Button
from bot.services import session_notices
from bot.services import session_rules as rules
from bot.services import sessions as service
from bot.typed import ascii_int
from storage.models import DialogueSession, SessionRegistration
from storage.repositories import (
    DialogueSessions,
    SessionQuestions,
    SessionRegistrations,
)


def short(text: str) -> str:
    """A topic cut at a word to fit on a button."""
    return shorten(text)


def number(payload: str | None, prefix: str) -> int | None:
    """The number after `prefix` in a payload ("ss:open:12" -> 12), or None."""
    rest = (payload or "").removeprefix(prefix)
    if payload is None or not payload.startswith(prefix):
        return None
    return ascii_int(rest)


def is_open(item: DialogueSession, ctx: Ctx) -> bool:
    """True while people can still register."""
    return item.status == rules.SCHEDULED and item.starts_at > ctx.now


async def my_registration(ctx: Ctx, item: DialogueSession) -> SessionRegistration | None:
    """My registration for this session when it is active (seat or waiting list)."""
    found = await SessionRegistrations(ctx.session).of_user(item.id, ctx.user.id)
    return found if found and found.status in rules.ACTIVE else None


async def waiting_place(ctx: Ctx, registration: SessionRegistration) -> int:
    """My place on the waiting list (1 for the first)."""
    waiting = await SessionRegistrations(ctx.session).with_status(registration.session_id,
                                                                  rules.WAITLISTED)
    return next((n for n, r in enumerate(waiting, 1) if r.id == registration.id), 1)


# --- the list -------------------------------------------------------------------------------


async def open_sessions(ctx: Ctx, intro: str = "") -> object:
    """The "Đối thoại" entry: upcoming sessions with time, place and seats left."""
    items = await DialogueSessions(ctx.session).upcoming(ctx.now)
    lines = [intro] if intro else []
    if items:
        lines.append(ctx._("Upcoming dialogue sessions with the commune's leaders. Choose one "
                           "to see the details and register:"))
    else:
        lines.append(ctx._("No dialogue session is planned at the moment. Sessions are "
                           "announced here at least 7 days ahead."))
    for item in items:
        seats = await service.seats(ctx.session, item)
        free = (ctx._("seats left: {count}").format(count=seats.left) if seats.left
                else ctx._("full, waiting list open"))
        lines.append(f"\n• {item.topic}\n  🕗 {ctx.when(item.starts_at)}\n  📍 {item.place} "
                     f"· {free}")
    buttons = [Button(short(item.topic), f"ss:open:{item.id}") for item in items]
    if await SessionRegistrations(ctx.session).of_person(ctx.user.id):
        buttons.append(Button(ctx._("My registrations"), "ss:mine"))
    ctx.say("\n".join(lines), *buttons, main_menu_button(ctx))
    return listing


async def listing(ctx: Ctx) -> object:
    """A session chosen, or my registrations."""
    if (session_id := number(ctx.chosen, "ss:open:")) is not None:
        return await show_session(ctx, session_id)
    if ctx.chosen == "ss:mine":
        return await my_registrations(ctx)
    if ctx.chosen == "ss:list":
        return await open_sessions(ctx)
    return await _typed_code_or_reoffer(ctx)


async def _typed_code_or_reoffer(ctx: Ctx) -> object:
    """A typed code ("s12") opens its session; anything else is asked again."""
    from bot.flows import short_link  # the registry imports this module

    if not ctx.chosen and (link := short_link(ctx.msg.text)) is not None:
        return await link(ctx)
    return reoffer(ctx)


async def my_registrations(ctx: Ctx) -> object:
    """Every session I registered for, with my place in it."""
    lines = [ctx._("Your registrations:")]
    buttons = []
    for registration in await SessionRegistrations(ctx.session).of_person(ctx.user.id):
        item = await DialogueSessions(ctx.session).get(registration.session_id)
        if item is None:
            continue
        if item.status == rules.CANCELLED:
            state = ctx._("the session was cancelled")
        elif item.status == rules.CLOSED:
            state = ctx._("held; the outcome is published")
        elif registration.status == rules.REGISTERED:
            state = ctx._("registered, ticket {ticket}").format(ticket=registration.ticket)
        else:
            state = ctx._("number {place} on the waiting list").format(
                place=await waiting_place(ctx, registration))
        lines.append(f"• {item.topic} — {ctx.when(item.starts_at)}: {state}")
        buttons.append(Button(short(item.topic), f"ss:open:{item.id}"))
    if not buttons:
        lines = [ctx._("You have not registered for any dialogue session.")]
    ctx.say("\n".join(lines), *buttons, Button(ctx._("All sessions"), "ss:list"),
            main_menu_button(ctx))
    return listing


# --- one session ----------------------------------------------------------------------------


async def show_session(ctx: Ctx, session_id: int, intro: str = "") -> object:
    """Everything about one session, with what I can do in it."""
    item = await DialogueSessions(ctx.session).get(session_id)
    if item is None:
        return await open_sessions(ctx, ctx._("This dialogue session does not exist (any "
                                              "more)."))
    ctx.data["id"] = item.id
    lines = [intro, ""] if intro else []
    lines += [f"🗣 {item.topic}"]
    if item.leaders:
        lines.append(ctx._("With: {leaders}").format(leaders=", ".join(item.leaders)))
    lines.append(ctx._("🕗 {when} ({minutes} minutes)").format(
        when=ctx.when(item.starts_at), minutes=item.duration_minutes))
    lines.append(f"📍 {item.place}")
    if item.online_link:
        lines.append(ctx._("Online: {link}").format(link=item.online_link))
    mine = await my_registration(ctx, item)
    seats = await service.seats(ctx.session, item)
    buttons = []
    if item.status == rules.CANCELLED:
        lines.append(ctx._("This dialogue session has been cancelled."))
    elif item.status == rules.CLOSED:
        lines += ["", ctx._("Outcome of the session:"), item.outcome or ""]
    elif not is_open(item, ctx):
        lines.append(ctx._("This dialogue session has already started; registration is "
                           "closed."))
    elif seats.left and not seats.waiting:
        lines.append(ctx._("Seats left: {left} of {seats}.").format(left=seats.left,
                                                                     seats=seats.open))
    else:
        lines.append(ctx._("All seats are taken; you can join the waiting list (waiting: "
                           "{waiting}).").format(waiting=seats.waiting))
    if mine and mine.status == rules.REGISTERED and item.status == rules.SCHEDULED:
        lines.append(ctx._("✅ You are registered. Your ticket code: {ticket}").format(
            ticket=mine.ticket))
    elif mine and item.status == rules.SCHEDULED:
        lines.append(ctx._("⏳ You are number {place} on the waiting list; if a seat becomes "
                           "free it is yours and you will be told.").format(
            place=await waiting_place(ctx, mine)))
    if is_open(item, ctx) and mine is None:
        buttons.append(Button(ctx._("Register"), "ss:register"))
    if is_open(item, ctx) and mine is not None:
        buttons.append(Button(ctx._("Send a question"), "ss:ask"))
        if await SessionQuestions(ctx.session).of_registration(mine.id):
            buttons.append(Button(ctx._("My questions"), "ss:questions"))
        if mine.status == rules.REGISTERED:
            buttons.append(Button(ctx._("Show my ticket"), "ss:ticket"))
        buttons.append(Button(ctx._("Cancel registration"), "ss:cancel"))
    if ctx.is_staff:
        invitation = await session_notices.invitation(ctx.session, item.id)
        if invitation is None and is_open(item, ctx):
            lines += ["", "⚠️ " + ctx._("Not announced yet: no resident has been told.")]
            buttons.append(Button(ctx._("Announce to residents"), "ss:staff:announce"))
        elif invitation is not None:
            lines += ["", ctx._("Announced on {day} (notice no. {number}).").format(
                day=ctx.day(invitation.created_at), number=invitation.id)]
        buttons.append(Button(ctx._("Registrations and questions"), "ss:staff:list"))
        if item.status == rules.SCHEDULED and item.starts_at <= ctx.now:
            buttons.append(Button(ctx._("Publish the outcome"), "ss:staff:close"))
    buttons += [Button(ctx._("All sessions"), "ss:list"), main_menu_button(ctx)]
    ctx.say("\n".join(lines).strip(), *buttons)
    return detail


async def detail(ctx: Ctx) -> object:
    """Register, ask, see my questions or ticket, cancel, or back to the list."""
    match ctx.chosen:
        case "ss:register":
            return await session_registration.begin_registration(ctx)
        case "ss:ask":
            return await session_questions.ask_question(ctx)
        case "ss:questions":
            return await session_questions.show_questions(ctx)
        case "ss:ticket":
            return await session_registration.show_ticket(ctx)
        case "ss:cancel":
            return await session_registration.confirm_cancel(ctx)
        case "ss:detail":
            return await show_again(ctx)
        case "ss:list":
            return await open_sessions(ctx)
        case "ss:staff:list" | "ss:staff:close" | "ss:staff:announce":
            from bot.flows import session_announce, session_desk  # they import this module

            if ctx.chosen == "ss:staff:announce":
                return await session_announce.ask_announce(ctx)
            if ctx.chosen == "ss:staff:list":
                return await session_desk.show_registrations(ctx)
            return await session_desk.ask_outcome(ctx)
    if (session_id := number(ctx.chosen, "ss:open:")) is not None:
        return await show_session(ctx, session_id)
    return await _typed_code_or_reoffer(ctx)


async def show_again(ctx: Ctx, intro: str = "") -> object:
    """The session being looked at, shown again (with a note on top)."""
    return await show_session(ctx, ctx.data.get("id", 0), intro)


async def open_link(ctx: Ctx, arg: str) -> object:
    """"go:session:12" (a notice's button, /start s_12, a typed code): open that session."""
    if (ident := ascii_int(arg)) is None:
        return await open_sessions(ctx)
    return await show_session(ctx, ident)


FLOW = Flow.of("sessions", listing, detail, session_registration.name, session_registration.hamlet,
               session_registration.phone, session_registration.cancelling,
               session_questions.question, session_questions.questions)
