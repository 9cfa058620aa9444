"""“Phản ánh của tôi”: a person's petitions, each with its timeline in plain words and the
legal step, the answer, a rating and reopening within 7 days. Only the sender sees a petition:
another person's code is "not found", never revealed."""

from __future__ import annotations

from bot import typed
from bot.flows import menu
from bot.flows.base import STAY, Ctx, Flow
from bot.flows.common import main_menu_button, reoffer
from bot.flows.petitions import settings_of
from bot.i18n import N_
from bot.messages import Button
from bot.services import petition_cards
from bot.services import petitions as service
from bot.services.petition_statuses import (
    ANSWERED,
    CLOSED,
    KIND_LABELS,
    NAMED,
    NEEDS_REASON,
    OPEN,
    PLAIN_LABELS,
    RECEIVED,
    resident_label,
)
from storage.models import Petition, PetitionEvent


def named(ctx: Ctx, petition: Petition) -> str:
    """The code with its type: "Khiếu nại KN-2026-000001"."""
    return ctx._(NAMED[petition.kind]).format(code=petition.code)


def status_of(ctx: Ctx, petition: Petition) -> str:
    """The status in the words its sender reads (plain for feedback, legal otherwise)."""
    return ctx._(resident_label(petition.kind, petition.status))


def due_of(ctx: Ctx, petition: Petition) -> str:
    """The deadline that applies now, as staff see it too; none once answered or closed."""
    if petition.status not in OPEN:
        return ""
    return petition_cards.due_text(petition, ctx._, ctx.day)


async def open_mine(ctx: Ctx, intro: str = "") -> object:
    """"Phản ánh của tôi": my petitions with status and due date; a code can be typed."""
    mine = await service.of_user(ctx.session, ctx.user.id, limit=10)
    if not mine:
        return menu.show(ctx, (intro + "\n\n" if intro else "") +
                         ctx._("You have not sent any petition yet."))
    lines = [intro, ctx._("Your petitions (newest first). Choose one, or type its code:")]
    for petition in mine:
        # the code first: on numbered-text channels the bullet becomes the button's number
        line = (f"• {petition.code} — {ctx._(KIND_LABELS[petition.kind])}: "
                f"{status_of(ctx, petition)}.")
        if due := due_of(ctx, petition):
            line += f" {due}."
        lines.append(line)
    ctx.say("\n".join(line for line in lines if line),
            *(Button(p.code, f"pt:open:{p.code}") for p in mine), main_menu_button(ctx))
    return mine_list


async def mine_list(ctx: Ctx) -> object:
    """A petition chosen or typed by its code."""
    code = (ctx.chosen or "").removeprefix("pt:open:") if ctx.chosen else ctx.msg.text
    return await show_petition(ctx, code)


async def open_link(ctx: Ctx, arg: str) -> object:
    """"go:petition:PA-2026-000123" from a notice or a deep link: only its sender sees it."""
    return await show_petition(ctx, arg)


async def _own(ctx: Ctx, code: str) -> Petition | None:
    petition = await service.by_code(ctx.session, code) if code.strip() else None
    if petition is None or petition.user_id != ctx.user.id:
        return None  # never say whether someone else's code exists
    return petition


async def show_petition(ctx: Ctx, code: str) -> object:
    """One petition: what, where, the timeline with the legal steps, the answer, actions."""
    petition = await _own(ctx, code)
    if petition is None:
        ctx.say(ctx._("I found no petition with that code among yours. Check the code, or "
                      "choose from your list."), *(ctx.offered or (main_menu_button(ctx),)))
        return STAY if ctx.offered else menu.choice
    ctx.data["code"] = petition.code
    settings = settings_of(ctx)
    lines = [
        named(ctx, petition),
        ctx._("Field: {field}").format(field=settings.field_label(petition.field,
                                                                   ctx.user.locale)),
        ctx._("Status: {status}").format(status=status_of(ctx, petition)),
    ]
    if due := due_of(ctx, petition):
        lines.append(due)
    lines += ["", petition.description[:500], "", ctx._("Timeline:")]
    lines += [line for event in await service.timeline(ctx.session, petition.id)
              if (line := _event_line(ctx, petition, event))]
    if petition.answer:
        lines += ["", ctx._("Answer of the People's Committee:"), petition.answer]
    if petition.rating:
        lines.append(ctx._("Your rating: {stars}/5").format(stars=petition.rating))
    buttons = []
    if petition.answer and petition.status in (ANSWERED, CLOSED):
        buttons.append(Button(ctx._("Rate the answer"), "pt:rate"))
    if service.can_reopen(petition, ctx.now):
        buttons.append(Button(ctx._("Reopen"), "pt:reopen"))
    buttons += [Button(ctx._("My petitions"), "pt:mine"), main_menu_button(ctx)]
    ctx.say("\n".join(lines), *buttons)
    return petition_view


def _event_line(ctx: Ctx, petition: Petition, event: PetitionEvent) -> str:
    """One step of the timeline in the sender's words, each said once."""
    if event.kind == "addition":
        return f"• {ctx.day(event.at)}: " + ctx._("you added information")
    if event.kind not in ("status", "answer") or not event.status:
        return ""
    # What happened that day: "received" (not "still awaiting acceptance", said by the status)
    label = (PLAIN_LABELS[RECEIVED] if event.status == RECEIVED
             else resident_label(petition.kind, event.status))
    line = f"• {ctx.day(event.at)}: {ctx._(label)}"
    if event.note and event.status in NEEDS_REASON:
        line += f" — {event.note}"
    return line


async def petition_view(ctx: Ctx) -> object:
    """Rate, reopen, or back to the list."""
    match ctx.chosen:
        case "pt:rate":
            ctx.say(ctx._("How satisfied are you with the answer? Choose, or type a number "
                          "from 1 to 5."), *rating_buttons(ctx), Button(ctx._("Back"), "pt:back"))
            return rating
        case "pt:reopen":
            ctx.say(ctx._("Why should the commune look at it again? Please type the reason:"),
                    Button(ctx._("Back"), "pt:back"))
            return reopen_reason
        case "pt:mine":
            return await open_mine(ctx)
    if not ctx.chosen and ctx.msg.text.strip():
        return await show_petition(ctx, ctx.msg.text)
    return reoffer(ctx)


RATINGS = (  # the number first: typing it (or "5 sao") gives that rating
    (1, N_("1 – Not satisfied")), (2, N_("2 – Not quite satisfied")), (3, N_("3 – Acceptable")),
    (4, N_("4 – Satisfied")), (5, N_("5 – Very satisfied")),
)


def rating_buttons(ctx: Ctx) -> list[Button]:
    """The five ratings, 1 to 5, so that the typed number is the button's number."""
    return [Button(ctx._(label), f"pt:stars:{n}") for n, label in RATINGS]


async def rating(ctx: Ctx) -> object:
    """Keep the stars (pressed, or typed as "5", "5 sao", "rất hài lòng")."""
    petition = await _own(ctx, ctx.data.get("code", ""))
    if ctx.chosen == "pt:back" and petition:
        return await show_petition(ctx, petition.code)
    stars = (ctx.chosen or "").removeprefix("pt:stars:")
    number = typed.ascii_int(stars)
    number = number if number is not None else typed.rating(ctx.msg.text)
    if number is None or petition is None:
        return reoffer(ctx)
    try:
        await service.rate(ctx.session, petition, ctx.user, number, now=ctx.now)
    except service.PetitionError:
        return reoffer(ctx)
    ctx.say(ctx._("Thank you for your rating."))
    return await show_petition(ctx, petition.code)


async def reopen_reason(ctx: Ctx) -> object:
    """Reopen with the reason given, if still allowed."""
    petition = await _own(ctx, ctx.data.get("code", ""))
    if ctx.chosen == "pt:back" and petition:
        return await show_petition(ctx, petition.code)
    reason = " ".join(ctx.msg.text.split())
    if petition is None or ctx.chosen or len(reason) < 5:
        ctx.say(ctx._("Please type the reason in a few words."), *ctx.offered)
        return STAY
    try:
        await service.reopen(ctx.session, petition, ctx.user, reason[:1000], now=ctx.now,
                             timezone=ctx.timezone, settings=settings_of(ctx))
    except service.PetitionError:
        ctx.say(ctx._("It can no longer be reopened: answers can be reopened within 7 days."))
        return await show_petition(ctx, petition.code)
    ctx.say(ctx._("Reopened. The commune has been told and will look at it again."))
    return await show_petition(ctx, petition.code)


FLOW = Flow.of("my_petitions", mine_list, petition_view, rating, reopen_reason)
