"""Dialogue sessions ("Đối thoại"): upcoming sessions, register for a seat or the waiting
list, the ticket (code and QR image), questions in advance, my registrations, cancel.

Name and hamlet are asked only when registering, with the reason. Imports no channel library.
"""

from __future__ import annotations

from bot.flows import menu
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import main_menu_button, reoffer
from bot.messages import Button
from bot.services import session_notices, session_questions
from bot.services import session_rules as rules
from bot.services import sessions as service
from storage.models import DialogueSession, SessionRegistration
from storage.repositories import (
    DialogueSessions,
    Hamlets,
    SessionQuestions,
    SessionRegistrations,
)

BUTTON_TOPIC = 60


def short(text: str) -> str:
    """A topic cut to fit on a button."""
    return text if len(text) <= BUTTON_TOPIC else text[: BUTTON_TOPIC - 1].rstrip() + "…"


def number(payload: str | None, prefix: str) -> int | None:
    """The number after `prefix` in a payload ("ss:open:12" -> 12), or None."""
    rest = (payload or "").removeprefix(prefix)
    if payload is None or not payload.startswith(prefix) or not rest.isdigit() or len(rest) > 9:
        return None
    return int(rest)


def _open(item: DialogueSession, ctx: Ctx) -> bool:
    """True while people can still register."""
    return item.status == rules.SCHEDULED and item.starts_at > ctx.now


async def _mine(ctx: Ctx, item: DialogueSession) -> SessionRegistration | None:
    """My registration for this session when it is active (seat or waiting list)."""
    found = await SessionRegistrations(ctx.session).of_user(item.id, ctx.user.id)
    return found if found and found.status in rules.ACTIVE else None


async def _waiting_place(ctx: Ctx, registration: SessionRegistration) -> int:
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
                place=await _waiting_place(ctx, registration))
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
    mine = await _mine(ctx, item)
    seats = await service.seats(ctx.session, item)
    buttons = []
    if item.status == rules.CANCELLED:
        lines.append(ctx._("This dialogue session has been cancelled."))
    elif item.status == rules.CLOSED:
        lines += ["", ctx._("Outcome of the session:"), item.outcome or ""]
    elif not _open(item, ctx):
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
            place=await _waiting_place(ctx, mine)))
    if _open(item, ctx) and mine is None:
        buttons.append(Button(ctx._("Register"), "ss:register"))
    if _open(item, ctx) and mine is not None:
        buttons.append(Button(ctx._("Send a question"), "ss:ask"))
        if await SessionQuestions(ctx.session).of_registration(mine.id):
            buttons.append(Button(ctx._("My questions"), "ss:questions"))
        if mine.status == rules.REGISTERED:
            buttons.append(Button(ctx._("Show my ticket"), "ss:ticket"))
        buttons.append(Button(ctx._("Cancel registration"), "ss:cancel"))
    if ctx.is_staff:
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
            return await begin_registration(ctx)
        case "ss:ask":
            return await ask_question(ctx)
        case "ss:questions":
            return await show_questions(ctx)
        case "ss:ticket":
            return await show_ticket(ctx)
        case "ss:cancel":
            return await confirm_cancel(ctx)
        case "ss:detail":
            return await show_again(ctx)
        case "ss:list":
            return await open_sessions(ctx)
        case "ss:staff:list" | "ss:staff:close":
            from bot.flows import session_desk  # it imports this module

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
    if not arg.isdigit() or len(arg) > 9:
        return await open_sessions(ctx)
    return await show_session(ctx, int(arg))


# --- registering ----------------------------------------------------------------------------


async def begin_registration(ctx: Ctx) -> object:
    """Ask for the name, saying why it is needed (consent needed: it is personal data)."""
    if not menu.has_consent(ctx):
        return await menu.needs_consent(ctx)
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    if item is None or not _open(item, ctx):
        return await show_again(ctx)
    if await _mine(ctx, item):
        return await show_again(ctx, ctx._("You are already registered for this session."))
    buttons = []
    if ctx.user.display_name:
        buttons.append(Button(ctx._("Use: {name}").format(name=ctx.user.display_name),
                              "ss:name:keep"))
    ctx.say(ctx._("To register, the commune needs your full name and your hamlet: they are "
                  "used to prepare the seats and to group the questions by hamlet, and are "
                  "kept with your registration.\n\nPlease type your full name:"),
            *buttons, Button(ctx._("Back"), "ss:detail"), main_menu_button(ctx))
    return name


async def name(ctx: Ctx) -> object:
    """Keep the name, ask for the hamlet."""
    if ctx.chosen == "ss:detail":
        return await show_again(ctx)
    typed = ctx.user.display_name if ctx.chosen == "ss:name:keep" else ctx.msg.text
    typed = " ".join((typed or "").split())
    if len(typed) < 2 or len(typed) > rules.MAX_NAME or typed.isdigit():
        ctx.say(ctx._("Please give your full name (at most 200 characters)."), *ctx.offered)
        return STAY
    ctx.data["name"] = typed
    hamlets = list(await Hamlets(ctx.session).active())
    hamlets.sort(key=lambda h: h.id != ctx.user.hamlet_id)  # my hamlet first
    ctx.say(ctx._("Which hamlet (thôn, tổ dân phố) do you live in?"),
            *(Button(h.name, f"hamlet:{h.code}") for h in hamlets),
            Button(ctx._("I live elsewhere"), "ss:hamlet:none"), main_menu_button(ctx))
    return hamlet


async def hamlet(ctx: Ctx) -> object:
    """Keep the hamlet, ask for an optional phone number."""
    if ctx.chosen == "ss:hamlet:none":
        ctx.data["hamlet_id"] = None
    else:
        code = (ctx.chosen or "").removeprefix("hamlet:")
        found = await Hamlets(ctx.session).by_code(code) if ctx.chosen else None
        if found is None or not found.active:
            return reoffer(ctx)
        ctx.data["hamlet_id"] = found.id
    buttons = []
    if ctx.user.phone:
        buttons.append(Button(ctx._("Use: {phone}").format(phone=ctx.user.phone),
                              "ss:phone:keep"))
    text = ctx._("Last, if you wish, a phone number the commune can call about this session "
                 "(for example if the time changes). Type it, or tap “Skip”.")
    if ctx.msg.channel == "telegram":
        text = ctx._("Last, if you wish, a phone number the commune can call about this "
                     "session (for example if the time changes). Type it, share your contact "
                     "(📎 → Contact), or tap “Skip”.")
    ctx.say(text, *buttons, Button(ctx._("Skip"), "ss:skip"), main_menu_button(ctx))
    return phone


async def phone(ctx: Ctx) -> object:
    """Keep the phone number (typed, shared or skipped) and register."""
    if ctx.chosen == "ss:skip":
        number = None
    elif ctx.chosen == "ss:phone:keep":
        number = ctx.user.phone
    elif ctx.msg.contact is not None:
        number = service.normal_phone(ctx.msg.contact.phone)
    else:
        number = service.normal_phone(ctx.msg.text)
    if ctx.chosen != "ss:skip" and number is None:
        ctx.say(ctx._("That does not look like a phone number. Please type it again (for "
                      "example 0912 345 678), or tap “Skip”."), *ctx.offered)
        return STAY
    return await finish_registration(ctx, number)


async def finish_registration(ctx: Ctx, number: str | None) -> object:
    """Take the seat (or a place on the waiting list) and say what happens next."""
    try:
        registration = await service.register(
            ctx.session, ctx.data.get("id", 0), ctx.user, name=ctx.data["name"],
            hamlet_id=ctx.data.get("hamlet_id"), phone=number, now=ctx.now,
            timezone=ctx.timezone)
    except service.SessionError as exc:
        return await show_again(ctx, exc.translated(ctx._))
    user = ctx.user
    user.display_name = ctx.data["name"]
    user.phone = number or user.phone
    if user.hamlet_id is None:
        user.hamlet_id = ctx.data.get("hamlet_id")
    item = await DialogueSessions(ctx.session).get(registration.session_id)
    buttons = (Button(ctx._("Send a question"), "ss:ask"),
               Button(ctx._("Back"), "ss:detail"), main_menu_button(ctx))
    if registration.status == rules.WAITLISTED:
        ctx.say(ctx._("All seats are taken, so you are number {place} on the waiting list for "
                      "“{topic}”. If a seat becomes free it is given to you automatically and "
                      "you will be told.").format(place=await _waiting_place(ctx, registration),
                                                  topic=item.topic), *buttons)
        return detail
    ctx.say(_ticket_text(ctx, item, registration), *buttons,
            attachments=session_notices.ticket_attachments(registration.ticket))
    return detail


def _ticket_text(ctx: Ctx, item: DialogueSession, registration: SessionRegistration) -> str:
    return ctx._("You are registered for “{topic}” at {when}, {place}.\n\nYour ticket code: "
                 "{ticket}\nShow it (or the QR code) at the entrance. You will get a reminder "
                 "before the session.").format(
        topic=item.topic, when=ctx.when(item.starts_at), place=item.place,
        ticket=registration.ticket)


async def show_ticket(ctx: Ctx) -> object:
    """My ticket again, as text and QR image."""
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await _mine(ctx, item) if item else None
    if mine is None or mine.status != rules.REGISTERED:
        return await show_again(ctx)
    ctx.say(_ticket_text(ctx, item, mine), Button(ctx._("Back"), "ss:detail"),
            main_menu_button(ctx), attachments=session_notices.ticket_attachments(mine.ticket))
    return detail


# --- cancelling -----------------------------------------------------------------------------


async def confirm_cancel(ctx: Ctx) -> object:
    """Ask before giving up the seat."""
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    if item is None or await _mine(ctx, item) is None:
        return await show_again(ctx)
    ctx.say(ctx._("Cancel your registration for “{topic}”? Your seat goes to the next person "
                  "on the waiting list.").format(topic=item.topic),
            Button(ctx._("Yes, cancel it"), "ss:cancel:yes"),
            Button(ctx._("No, keep it"), "ss:cancel:no"))
    return cancelling


async def cancelling(ctx: Ctx) -> object:
    """Cancel (the first waiting person gets the seat), or keep it."""
    if ctx.chosen == "ss:cancel:no":
        return await show_again(ctx)
    if ctx.chosen != "ss:cancel:yes":
        return reoffer(ctx)
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await _mine(ctx, item) if item else None
    if mine is None:
        return await show_again(ctx, ctx._("This registration was already cancelled."))
    try:
        await service.cancel_registration(ctx.session, mine.id, ctx.user, now=ctx.now,
                                          timezone=ctx.timezone)
    except service.SessionError as exc:
        return await show_again(ctx, exc.translated(ctx._))
    return await show_again(ctx, ctx._("Your registration has been cancelled. Thank you for "
                                   "letting us know."))


# --- questions ------------------------------------------------------------------------------


async def ask_question(ctx: Ctx) -> object:
    """Ask for the question's text (up to 3 per person)."""
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await _mine(ctx, item) if item else None
    if mine is None or not _open(item, ctx):
        return await show_again(ctx)
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
        return await show_again(ctx)
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await _mine(ctx, item) if item else None
    if mine is None:
        return await show_again(ctx)
    try:
        await session_questions.add_question(ctx.session, mine, ctx.msg.text, now=ctx.now)
    except service.SessionError as exc:
        if len(ctx.msg.text.strip()) > rules.MAX_QUESTION or not ctx.msg.text.strip():
            ctx.say(exc.translated(ctx._), *ctx.offered)
            return STAY
        return await show_again(ctx, exc.translated(ctx._))
    return await show_again(ctx, ctx._("Thank you, your question was received."))


async def show_questions(ctx: Ctx, intro: str = "") -> object:
    """My questions, each with a button to withdraw it."""
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await _mine(ctx, item) if item else None
    if mine is None:
        return await show_again(ctx)
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
        return await show_again(ctx)
    if (question_id := number(ctx.chosen, "ss:withdraw:")) is None:
        return reoffer(ctx)
    try:
        await session_questions.withdraw_question(ctx.session, question_id, ctx.user, now=ctx.now)
    except service.SessionError as exc:
        return await show_questions(ctx, exc.translated(ctx._))
    return await show_questions(ctx, ctx._("The question was withdrawn."))


FLOW = Flow.of("sessions", listing, detail, name, hamlet, phone, cancelling, question,
               questions)
