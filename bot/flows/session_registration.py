"""Registering for a dialogue session: name, hamlet and an optional phone, then the seat or
the waiting list; the ticket (code and QR image) shown again; giving the seat up.

Steps of the "sessions" flow (bot.flows.sessions), which shows the session around them.
"""

from __future__ import annotations

# bot.flows.sessions imports this module: its names are read at call time.
from bot.flows import menu, sessions
from bot.flows.base import STAY, Ctx, asks_personal_data
from bot.flows.common import main_menu_button, reoffer
from bot.messages import Button
from bot.services import session_notices
from bot.services import session_rules as rules
from bot.services import sessions as service
from bot.services.session_rules import SessionError
from storage.models import DialogueSession, SessionRegistration
from storage.repositories import DialogueSessions, Hamlets


async def begin_registration(ctx: Ctx) -> object:
    """Ask for the name, saying why it is needed (consent needed: it is personal data)."""
    if not menu.has_consent(ctx):
        return await menu.needs_consent(ctx)
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    if item is None or not sessions.is_open(item, ctx):
        return await sessions.show_again(ctx)
    if await sessions.my_registration(ctx, item):
        return await sessions.show_again(
            ctx, ctx._("You are already registered for this session."))
    buttons = []
    if ctx.user.display_name:
        buttons.append(Button(ctx._("Use: {name}").format(name=ctx.user.display_name),
                              "ss:name:keep"))
    ctx.say(ctx._("To register, the commune needs your full name and your hamlet: they are "
                  "used to prepare the seats and to group the questions by hamlet, and are "
                  "kept with your registration.\n\nPlease type your full name:"),
            *buttons, Button(ctx._("Back"), "ss:detail"), main_menu_button(ctx))
    return name


@asks_personal_data
async def name(ctx: Ctx) -> object:
    """Keep the name, ask for the hamlet."""
    if ctx.chosen == "ss:detail":
        return await sessions.show_again(ctx)
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


@asks_personal_data
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
    # The name and hamlet go to the registration (and the profile), not on with the flow.
    name, hamlet_id = ctx.data.pop("name"), ctx.data.pop("hamlet_id", None)
    try:
        registration = await service.register(
            ctx.session, ctx.data.get("id", 0), ctx.user, name=name,
            hamlet_id=hamlet_id, phone=number, now=ctx.now,
            timezone=ctx.timezone)
    except SessionError as exc:
        return await sessions.show_again(ctx, exc.translated(ctx._))
    user = ctx.user
    user.display_name = name
    user.phone = number or user.phone
    if user.hamlet_id is None:
        user.hamlet_id = hamlet_id
    item = await DialogueSessions(ctx.session).get(registration.session_id)
    buttons = (Button(ctx._("Send a question"), "ss:ask"),
               Button(ctx._("Back"), "ss:detail"), main_menu_button(ctx))
    if registration.status == rules.WAITLISTED:
        place = await sessions.waiting_place(ctx, registration)
        ctx.say(ctx._("All seats are taken, so you are number {place} on the waiting list for "
                      "“{topic}”. If a seat becomes free it is given to you automatically and "
                      "you will be told.").format(place=place, topic=item.topic), *buttons)
        return sessions.detail
    ctx.say(_ticket_text(ctx, item, registration), *buttons,
            attachments=session_notices.ticket_attachments(registration.ticket))
    return sessions.detail


def _ticket_text(ctx: Ctx, item: DialogueSession, registration: SessionRegistration) -> str:
    return ctx._("You are registered for “{topic}” at {when}, {place}.\n\nYour ticket code: "
                 "{ticket}\nShow it (or the QR code) at the entrance. You will get a reminder "
                 "before the session.").format(
        topic=item.topic, when=ctx.when(item.starts_at), place=item.place,
        ticket=registration.ticket)


async def show_ticket(ctx: Ctx) -> object:
    """My ticket again, as text and QR image."""
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await sessions.my_registration(ctx, item) if item else None
    if mine is None or mine.status != rules.REGISTERED:
        return await sessions.show_again(ctx)
    ctx.say(_ticket_text(ctx, item, mine), Button(ctx._("Back"), "ss:detail"),
            main_menu_button(ctx), attachments=session_notices.ticket_attachments(mine.ticket))
    return sessions.detail


async def confirm_cancel(ctx: Ctx) -> object:
    """Ask before giving up the seat."""
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    if item is None or await sessions.my_registration(ctx, item) is None:
        return await sessions.show_again(ctx)
    ctx.say(ctx._("Cancel your registration for “{topic}”? Your seat goes to the next person "
                  "on the waiting list.").format(topic=item.topic),
            Button(ctx._("Yes, cancel it"), "ss:cancel:yes"),
            Button(ctx._("No, keep it"), "ss:cancel:no"))
    return cancelling


async def cancelling(ctx: Ctx) -> object:
    """Cancel (the first waiting person gets the seat), or keep it."""
    if ctx.chosen == "ss:cancel:no":
        return await sessions.show_again(ctx)
    if ctx.chosen != "ss:cancel:yes":
        return reoffer(ctx)
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    mine = await sessions.my_registration(ctx, item) if item else None
    if mine is None:
        return await sessions.show_again(ctx, ctx._("This registration was already cancelled."))
    try:
        await service.cancel_registration(ctx.session, mine.id, ctx.user, now=ctx.now,
                                          timezone=ctx.timezone)
    except SessionError as exc:
        return await sessions.show_again(ctx, exc.translated(ctx._))
    return await sessions.show_again(ctx, ctx._("Your registration has been cancelled. Thank "
                                                "you for letting us know."))
