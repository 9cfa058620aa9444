"""Staff announce a dialogue session from the chat: topic, time, place, seats, leaders, then
a preview with the legal warnings (7 days' notice; a weekend, holiday or night) and the
audience of the invitation in numbers. "Announce" saves the session and sends the invitation
(as a notice: hamlet groups and residents who opted in); "Save" keeps it unannounced, and
the session then says so, with a button to announce it later. Steps of the session desk
flow (bot.flows.session_desk); the role is checked at every step. Imports no channel library.
"""

from __future__ import annotations

from datetime import datetime

from bot import typed
from bot.flows import menu, sessions
from bot.flows.base import STAY, Ctx
from bot.flows.common import main_menu_button, record_refusal, reoffer, today
from bot.messages import Button
from bot.services import session_notices
from bot.services import session_rules as rules
from bot.services import sessions as service
from bot.services.broadcast_audience import reach
from bot.services.petitions import Settings as CommuneSettings
from bot.typed import ascii_int
from storage.models import DialogueSession
from storage.repositories import DialogueSessions

ANNOUNCE, SAVE, TIME, DROP = "desk:announce", "desk:save", "desk:time", "desk:drop"


async def _refused(ctx: Ctx) -> object:
    record_refusal(ctx, "session announce")
    return menu.show(ctx, ctx._("Only commune staff can do this."))


def _actor(ctx: Ctx) -> str:
    return f"{ctx.msg.channel}:{ctx.msg.user_id}"


def ask_topic(ctx: Ctx) -> object:
    """First question of a new session: its topic."""
    ctx.data.clear()
    ctx.say(ctx._("New dialogue session. What is the topic?"), main_menu_button(ctx))
    return new_topic


async def new_topic(ctx: Ctx) -> object:
    """Keep the topic, ask for the time."""
    if not ctx.is_staff:
        return await _refused(ctx)
    text = " ".join(ctx.msg.text.split())
    if not text or len(text) > rules.MAX_TOPIC:
        ctx.say(ctx._("Please type the topic (at most 300 characters)."), *ctx.offered)
        return STAY
    ctx.data["topic"] = text
    return _ask_start(ctx)


def _ask_start(ctx: Ctx) -> object:
    ctx.say(ctx._("When does it start? Type the day and time, e.g. {day} 08:00. The law "
                  "asks for at least 7 days' notice.").format(
                      day=typed.example_day(today(ctx), 14)), main_menu_button(ctx))
    return new_start


async def new_start(ctx: Ctx) -> object:
    """Keep the start, ask for the place (or back to the preview when changing the time)."""
    if not ctx.is_staff:
        return await _refused(ctx)
    moment = typed.moment(ctx.msg.text, ctx.timezone, today(ctx))
    if moment is None:
        ctx.say(ctx._("I could not read the day and time. Type them like {day} 08:00 "
                      "or {short} 8h.").format(day=typed.example_day(today(ctx), 14),
                                              short=typed.example_short_day(today(ctx), 14)),
                *ctx.offered)
        return STAY
    if moment <= ctx.now:
        ctx.say(ctx._("{when} has already passed. Please type a day and time in the "
                      "future.").format(when=ctx.when(moment)), *ctx.offered)
        return STAY
    ctx.data["start"] = moment.isoformat()
    if "capacity" in ctx.data:
        return await _preview(ctx)
    ctx.say(ctx._("Where does it take place?"), main_menu_button(ctx))
    return new_place


async def new_place(ctx: Ctx) -> object:
    """Keep the place, ask for the number of seats."""
    if not ctx.is_staff:
        return await _refused(ctx)
    text = " ".join(ctx.msg.text.split())
    if not text or len(text) > 300:
        ctx.say(ctx._("Please type the place (at most 300 characters)."), *ctx.offered)
        return STAY
    ctx.data["place"] = text
    ctx.say(ctx._("How many seats are there for residents?"), main_menu_button(ctx))
    return new_capacity


async def new_capacity(ctx: Ctx) -> object:
    """Keep the seats, ask who leads the session."""
    if not ctx.is_staff:
        return await _refused(ctx)
    typed = ctx.msg.text.strip()
    if ascii_int(typed) is None or not 1 <= int(typed) <= 100_000:
        ctx.say(ctx._("Please type the number of seats, e.g. 60."), *ctx.offered)
        return STAY
    ctx.data["capacity"] = int(typed)
    ctx.say(ctx._("Who leads it? Type the names or titles, separated by commas, or tap "
                  "“Skip”."), Button(ctx._("Skip"), "desk:skip"), main_menu_button(ctx))
    return new_leaders


def _plan(ctx: Ctx) -> rules.Plan:
    return rules.Plan(topic=ctx.data["topic"], start=datetime.fromisoformat(ctx.data["start"]),
                      place=ctx.data["place"], capacity=ctx.data["capacity"],
                      leaders=ctx.data.get("leaders", []))


async def _audience(ctx: Ctx, start: datetime) -> tuple[list[str], bool]:
    """The invitation's audience in numbers and the timing warnings; True when it would
    reach somebody."""
    found = await reach(ctx.session, (), "both")
    lines = ["", ctx._("The invitation goes to every hamlet:"),
             ctx.ngettext("• {count} linked hamlet group", "• {count} linked hamlet groups",
                          found.groups).format(count=found.groups),
             ctx.ngettext("• {count} resident who opted in to hamlet notices",
                          "• {count} residents who opted in to hamlet notices",
                          found.residents).format(count=found.residents)]
    if found.nobody:
        lines.append("⚠️ " + ctx._("No resident would receive the invitation yet: no hamlet "
                                  "group is linked and no resident has turned hamlet notices "
                                  "on. You can save the session and announce it later."))
    calendar = CommuneSettings.of(ctx.commune).calendar
    lines += ["⚠️ " + ctx._(warning)
              for warning in rules.warnings(start, ctx.now, ctx.timezone, calendar)]
    return lines, not found.nobody


async def new_leaders(ctx: Ctx) -> object:
    """Keep the leaders and show the preview."""
    if not ctx.is_staff:
        return await _refused(ctx)
    if ctx.chosen != "desk:skip":
        ctx.data["leaders"] = [x.strip() for x in ctx.msg.text.split(",") if x.strip()][:10]
    return await _preview(ctx)


async def _preview(ctx: Ctx) -> object:
    """The session as residents will see it, who the invitation reaches, the warnings."""
    plan = _plan(ctx)
    lines = [ctx._("Please check before announcing:"), "", f"🗣 {plan.topic}",
             ctx._("With: {leaders}").format(leaders=", ".join(plan.leaders) or "—"),
             f"🕗 {ctx.when(plan.start)}", f"📍 {plan.place}",
             ctx._("Seats: {seats}").format(seats=plan.capacity)]
    audience, somebody = await _audience(ctx, plan.start)
    buttons = [Button(ctx._("Announce and invite residents"), ANNOUNCE)] if somebody else []
    buttons += [Button(ctx._("Save, announce later"), SAVE),
                Button(ctx._("Change the time"), TIME), Button(ctx._("Cancel"), DROP)]
    ctx.say("\n".join(lines + audience), *buttons)
    return new_confirm


async def new_confirm(ctx: Ctx) -> object:
    """Announce the session, save it unannounced, change its time, or drop the draft."""
    if not ctx.is_staff:
        return await _refused(ctx)
    if ctx.chosen == DROP:
        return menu.show(ctx, ctx._("Not announced. Nothing was saved."))
    if ctx.chosen == TIME:
        return _ask_start(ctx)
    if ctx.chosen not in (ANNOUNCE, SAVE):
        return reoffer(ctx)
    try:
        item = await service.announce(ctx.session, _plan(ctx), actor=_actor(ctx),
                                      now=ctx.now, timezone=ctx.timezone)
    except service.SessionError as exc:
        return menu.show(ctx, exc.translated(ctx._))
    if ctx.chosen == SAVE:
        return await sessions.show_session(ctx, item.id, ctx._(
            "Saved as session number {number}, but NOT announced: no resident has been told "
            "yet, and the 7 days' notice has not started. Tap “Announce to residents” when "
            "it is ready.").format(number=item.id))
    return await _invite(ctx, item)


async def _invite(ctx: Ctx, item: DialogueSession) -> object:
    """Send the invitation and show the session with how many it goes to."""
    invitation = await session_notices.invite(
        ctx.session, item, actor=_actor(ctx), now=ctx.now, timezone=ctx.timezone,
        locale=ctx.user.locale)
    count = await session_notices.invitation_recipients(ctx.session, invitation)
    return await sessions.show_session(ctx, item.id, ctx.ngettext(
        "Announced (number {number}): the invitation goes to {count} recipient. Residents "
        "can also open it with the code s{number}.",
        "Announced (number {number}): the invitation goes to {count} recipients. Residents "
        "can also open it with the code s{number}.", count).format(number=item.id,
                                                                   count=count))


async def ask_announce(ctx: Ctx) -> object:
    """A saved session's "Announce to residents": who it reaches and the warnings first."""
    if not ctx.is_staff:
        return await _refused(ctx)
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    if item is None or not sessions.is_open(item, ctx):
        return await sessions.show_again(ctx)
    audience, somebody = await _audience(ctx, item.starts_at)
    buttons = [Button(ctx._("Announce and invite residents"), ANNOUNCE)] if somebody else []
    ctx.say("\n".join([ctx._("Announce “{topic}” ({when}) to residents?").format(
        topic=item.topic, when=ctx.when(item.starts_at)), *audience]),
        *buttons, Button(ctx._("Back"), "ss:detail"), main_menu_button(ctx))
    return announcing


async def announcing(ctx: Ctx) -> object:
    """Send the invitation of a saved session, or go back to it."""
    if not ctx.is_staff:
        return await _refused(ctx)
    if ctx.chosen == "ss:detail":
        return await sessions.show_again(ctx)
    if ctx.chosen != ANNOUNCE:
        return reoffer(ctx)
    item = await DialogueSessions(ctx.session).get(ctx.data.get("id", 0))
    if item is None or not sessions.is_open(item, ctx):
        return await sessions.show_again(ctx)
    if await session_notices.invitation(ctx.session, item.id) is not None:
        return await sessions.show_again(ctx, ctx._("This session was already announced."))
    return await _invite(ctx, item)


STEPS = (new_topic, new_start, new_place, new_capacity, new_leaders, new_confirm, announcing)
