"""Staff side of dialogue sessions in the chat: announce a session, check tickets at the door
(/checkin), see registrations and questions grouped by hamlet, publish the outcome.

The role is checked at every step. Imports no channel library.
"""

from __future__ import annotations

from datetime import datetime

from bot.flows import menu, sessions
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import main_menu_button, parse_moment, reoffer
from bot.messages import Button
from bot.services import session_outcome, session_tickets
from bot.services import session_rules as rules
from bot.services import sessions as service
from storage.repositories import DialogueSessions, Hamlets, SessionQuestions, SessionRegistrations

MAX_SHOWN_QUESTION = 300
MAX_MESSAGE = 3_500  # stays under Telegram's 4,096 and reads well on a phone


async def not_allowed(ctx: Ctx) -> object:
    """A resident tried a staff action."""
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
        return ask_topic(ctx)
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
        hamlet = await Hamlets(ctx.session).get(registration.hamlet_id)
        text = ctx._("✅ Checked in: {name} ({hamlet}) for “{topic}”.").format(
            name=registration.name, hamlet=hamlet.name if hamlet else "—",
            topic=item.topic if item else "—")
    ctx.say(text + "\n\n" + ctx._("Next ticket code, or “Main menu” to stop:"),
            main_menu_button(ctx))
    return ticket


# --- registrations, questions, outcome ------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    text = "\n".join(lines)
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE].rsplit("\n", 1)[0] + "\n…\n" + ctx._(
            "The full list: python -m bot session show {id}").format(id=item.id)
    ctx.say(text, Button(ctx._("Back"), "ss:detail"), main_menu_button(ctx))
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


# --- announcing a session -------------------------------------------------------------------


def ask_topic(ctx: Ctx) -> object:
    """First question of a new session: its topic."""
    ctx.data.clear()
    ctx.say(ctx._("New dialogue session. What is the topic?"), main_menu_button(ctx))
    return new_topic


async def new_topic(ctx: Ctx) -> object:
    """Keep the topic, ask for the time."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    text = " ".join(ctx.msg.text.split())
    if not text or len(text) > rules.MAX_TOPIC:
        ctx.say(ctx._("Please type the topic (at most 300 characters)."), *ctx.offered)
        return STAY
    ctx.data["topic"] = text
    ctx.say(ctx._("When does it start? Type the day and time, e.g. 20/12/2026 08:00. The law "
                  "asks for at least 7 days' notice."), main_menu_button(ctx))
    return new_start


async def new_start(ctx: Ctx) -> object:
    """Keep the start, ask for the place."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    moment = parse_moment(ctx.msg.text, ctx.timezone)
    if moment is None or moment <= ctx.now:
        ctx.say(ctx._("Please type a future day and time like 20/12/2026 08:00."),
                *ctx.offered)
        return STAY
    ctx.data["start"] = moment.isoformat()
    ctx.say(ctx._("Where does it take place?"), main_menu_button(ctx))
    return new_place


async def new_place(ctx: Ctx) -> object:
    """Keep the place, ask for the number of seats."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
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
        return await not_allowed(ctx)
    typed = ctx.msg.text.strip()
    if not typed.isdigit() or not 1 <= int(typed) <= 100_000:
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


async def new_leaders(ctx: Ctx) -> object:
    """Keep the leaders and show the preview with the legal warnings."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    if ctx.chosen != "desk:skip":
        ctx.data["leaders"] = [x.strip() for x in ctx.msg.text.split(",") if x.strip()][:10]
    plan = _plan(ctx)
    lines = [ctx._("Please check before announcing:"), "", f"🗣 {plan.topic}",
             ctx._("With: {leaders}").format(leaders=", ".join(plan.leaders) or "—"),
             f"🕗 {ctx.when(plan.start)}", f"📍 {plan.place}",
             ctx._("Seats: {seats}").format(seats=plan.capacity)]
    lines += ["⚠️ " + ctx._(warning) for warning in rules.warnings(plan.start, ctx.now)]
    ctx.say("\n".join(lines), Button(ctx._("Announce"), "desk:announce"),
            Button(ctx._("Cancel"), "desk:drop"))
    return new_confirm


async def new_confirm(ctx: Ctx) -> object:
    """Announce the session, or drop the draft."""
    if not ctx.is_staff:
        return await not_allowed(ctx)
    if ctx.chosen == "desk:drop":
        return menu.show(ctx, ctx._("Not announced. Nothing was saved."))
    if ctx.chosen != "desk:announce":
        return reoffer(ctx)
    try:
        item = await service.announce(ctx.session, _plan(ctx),
                                      actor=f"{ctx.msg.channel}:{ctx.msg.user_id}",
                                      now=ctx.now, timezone=ctx.timezone)
    except service.SessionError as exc:
        return menu.show(ctx, exc.translated(ctx._))
    return await sessions.show_session(ctx, item.id, ctx._(
        "Announced (number {number}). Residents can open it with the code s{number}, or on "
        "Telegram with /start s_{number}.").format(number=item.id))


FLOW = Flow.of("session_desk", desk, ticket, outcome, new_topic, new_start, new_place,
               new_capacity, new_leaders, new_confirm)
