"""The petition desk for staff, in a private chat or the staff group, on every channel:
the queue ("Phản ánh cần xử lý (N)", /petitions), a petition's card with the resident's
evidence, and the buttons of the actions the law allows now ("pa:<verb>:<id>").

Steps answer with the next step in a private chat (the engine saves it); in the staff
group bot.flows.groups has checked the role and ignores what they return. Actions that
need words (an answer, a reason, where to forward) continue in bot.flows.petition_drafts.
"""

from __future__ import annotations

from datetime import date

from bot.flows import petition_drafts as drafts
from bot.flows.base import END, STAY, Ctx, Flow
from bot.flows.common import record_refusal
from bot.i18n import N_
from bot.messages import Button
from bot.services import petition_cards as cards
from bot.services import petitions as service
from bot.services import roles
from bot.services.petition_statuses import (
    ACCEPTED,
    CLOSED,
    COMPLAINT,
    DENUNCIATION,
    FEEDBACK,
    IN_PROGRESS,
    OPEN,
    RECEIVED,
    REOPENED,
    STATUS_LABELS,
)
from bot.textfold import fold
from bot.typed import ascii_int
from storage.models import Petition, RoleGrant
from storage.repositories import RoleGrants

PAGE = 8
FILTERS = {  # name -> label (msgid)
    "all": N_("All open"),
    "new": N_("New"),
    "mine": N_("Mine"),
    "overdue": N_("Overdue"),
    "reopened": N_("Reopened"),
    FEEDBACK: N_("Feedback"),
    COMPLAINT: N_("Complaints"),
    DENUNCIATION: N_("Denunciations"),
}
MOVES = {"accept": ACCEPTED, "progress": IN_PROGRESS, "close": CLOSED}


def actor(ctx: Ctx) -> str:
    """The person acting, as recorded: "telegram:900001"."""
    return roles.identity(ctx.msg.channel, ctx.msg.user_id)


def viewer(ctx: Ctx) -> cards.Viewer:
    """Who looks, and where."""
    return cards.Viewer(ctx.user.locale, ctx.roles, ctx.msg.chat_id is None, ctx.msg.channel)


async def settings(ctx: Ctx) -> service.Settings:
    """The commune's petition settings."""
    return service.Settings.of(ctx.commune)


def refused(ctx: Ctx) -> object:
    """Someone without the staff role pressed a desk button or typed a desk command."""
    record_refusal(ctx, "petition desk")
    ctx.say(ctx._("Not allowed: only commune staff can use this."), alert=True)
    return STAY


# --- the queue ------------------------------------------------------------------------------


async def open_queue(ctx: Ctx) -> object:
    """"Phản ánh cần xử lý" and /petitions [filter]: the first page of open petitions."""
    if not ctx.is_staff:
        return refused(ctx)
    typed = fold(ctx.msg.args or "")
    words = {fold(ctx._(label)): name for name, label in FILTERS.items()} | {n: n for n in FILTERS}
    return await show_queue(ctx, words.get(typed, "all"), 0)


async def show_queue(ctx: Ctx, name: str, page: int) -> object:
    """One page of the queue under a filter, with the filters as buttons."""
    today = service.local_day(ctx.now, ctx.timezone)
    found = [p for p in cards.by_urgency(await service.listing(ctx.session, statuses=OPEN,
                                                               limit=1000))
             if _keeps(name, p, actor(ctx), today)]
    shown = found[page * PAGE:(page + 1) * PAGE]
    if not found:
        text = ctx._("No open petition here ({filter}).").format(filter=ctx._(FILTERS[name]))
    else:
        text = "\n".join([ctx._("Petitions to handle — {filter} ({count}), overdue first:")
                          .format(filter=ctx._(FILTERS[name]), count=len(found))] +
                         [f"{i}. {cards.queue_line(p, today, ctx.user.locale, ctx.timezone)}"
                          for i, p in enumerate(shown, page * PAGE + 1)])
    buttons = [Button(p.code or "", f"pa:show:{p.id}") for p in shown]
    if page > 0:
        buttons.append(Button(ctx._("Previous page"), f"pq:{name}:{page - 1}"))
    if (page + 1) * PAGE < len(found):
        buttons.append(Button(ctx._("Next page"), f"pq:{name}:{page + 1}"))
    buttons += [Button(ctx._(label), f"pq:{other}:0") for other, label in FILTERS.items()
                if other != name]
    ctx.say(text, *buttons, edit=ctx.msg.payload is not None)
    return END


def _keeps(name: str, petition: Petition, me: str, today: date) -> bool:
    if name == "new":
        return petition.status == RECEIVED
    if name == "mine":
        return petition.assignee == me
    if name == "overdue":
        return cards.due_now(petition)[1] < today
    if name == "reopened":
        return petition.status == REOPENED
    if name in (FEEDBACK, COMPLAINT, DENUNCIATION):
        return petition.kind == name
    return True


async def page_pressed(ctx: Ctx) -> object:
    """A filter or a page of the queue: "pq:<filter>:<page>"."""
    if not ctx.is_staff:
        return refused(ctx)
    _, name, page = ((ctx.msg.payload or "") + "::").split(":")[:3]
    return await show_queue(ctx, name if name in FILTERS else "all",
                            ascii_int(page) or 0)


# --- one petition ---------------------------------------------------------------------------


async def show_card(ctx: Ctx, petition: Petition, intro: str = "") -> object:
    """The card with its buttons."""
    text = await cards.card(ctx.session, petition, await settings(ctx), ctx.timezone,
                            viewer(ctx))
    ctx.say("\n".join(p for p in (intro, text) if p), *cards.buttons(petition, viewer(ctx)))
    return END


async def pressed(ctx: Ctx) -> object:
    """A button on a card: "pa:<verb>:<id>[:<arg>]"."""
    if not ctx.is_staff:
        return refused(ctx)
    _, verb, ident, arg = ((ctx.msg.payload or "") + ":::").split(":")[:4]
    number = ascii_int(ident)
    petition = await ctx.session.get(Petition, number) if number is not None else None
    if petition is None:
        ctx.say(ctx._("This button is no longer active."), alert=True)
        return STAY
    if verb == "to":
        return await assign_to(ctx, petition, arg)
    if verb in ("complex", "remote"):
        return await extend(ctx, petition, verb)
    if verb in MOVES:
        return await move(ctx, petition, MOVES[verb])
    handler = {**drafts.STARTS, **drafts.PRESSES, **VIEWS}.get(verb)
    if handler is not None:
        return await handler(ctx, petition)
    ctx.say(ctx._("This button is no longer active."), alert=True)
    return STAY


async def show_files(ctx: Ctx, petition: Petition) -> object:
    """The resident's photos (an album where the channel has one), voice notes and files."""
    files = tuple(a for a in cards.evidence(petition, ctx.msg.channel,
                                            secret=cards.secret(petition, viewer(ctx)))
                  if a.kind != "location")
    if not files:
        ctx.say(ctx._("No file can be shown here."))
        return STAY
    ctx.say(ctx._("Files of {code}:").format(code=petition.code), attachments=files)
    return STAY


async def show_pin(ctx: Ctx, petition: Petition) -> object:
    """The location pin, as a map location message."""
    pin = tuple(a for a in cards.evidence(petition, ctx.msg.channel,
                                          secret=cards.secret(petition, viewer(ctx)))
                if a.kind == "location")
    if not pin:
        ctx.say(ctx._("No location was sent with this petition."))
        return STAY
    ctx.say(ctx._("Location of {code}:").format(code=petition.code), attachments=pin)
    return STAY


async def move(ctx: Ctx, petition: Petition, status: str) -> object:
    """Accept, "being handled" or close, where the rules allow it now."""
    try:
        await service.change_status(ctx.session, petition, status, actor=actor(ctx),
                                    now=ctx.now, timezone=ctx.timezone,
                                    settings=await settings(ctx))
    except service.PetitionError:
        ctx.say(ctx._("{code} cannot be moved to that status now (it is: {status}).").format(
            code=petition.code, status=ctx._(STATUS_LABELS[petition.status])), alert=True)
        return STAY
    return await show_card(ctx, petition, ctx._("{code}: {status}. The resident has been told.")
                           .format(code=petition.code,
                                   status=ctx._(STATUS_LABELS[petition.status])))


async def take(ctx: Ctx, petition: Petition) -> object:
    """"Nhận xử lý": the person who pressed handles it."""
    return await assign_to(ctx, petition, actor(ctx))


async def ask_assignee(ctx: Ctx, petition: Petition) -> object:
    """"Giao cho": the staff list, by name."""
    grants = await _staff_grants(ctx)
    ctx.say(ctx._("Who handles {code}?").format(code=petition.code),
            *(Button(g.name or ctx._("Colleague ({channel})").format(channel=g.channel),
                     f"pa:to:{petition.id}:{g.id}") for g in grants))
    return END


async def _staff_grants(ctx: Ctx) -> list[RoleGrant]:
    seen, found = set(), []
    for grant in await RoleGrants(ctx.session).holders(roles.STAFF):
        key = roles.identity(grant.channel, grant.user_id)
        if key not in seen:
            seen.add(key)
            found.append(grant)
    return found


async def assign_to(ctx: Ctx, petition: Petition, who: str) -> object:
    """Give the petition to a colleague (a grant id from the list, or an identity)."""
    if ascii_int(who) is not None:
        grant = await ctx.session.get(RoleGrant, int(who))
        if grant is None or grant.role not in roles.STAFF:
            ctx.say(ctx._("This button is no longer active."), alert=True)
            return STAY
        who = roles.identity(grant.channel, grant.user_id)
    await service.assign(ctx.session, petition, who, actor=actor(ctx), now=ctx.now)
    names = await roles.staff_names(ctx.session)
    return await show_card(ctx, petition, ctx._("{code} is now handled by {who}.").format(
        code=petition.code, who=roles.display(names, who, ctx._("a colleague"))))


async def ask_extension(ctx: Ctx, petition: Petition) -> object:
    """"Gia hạn": the law's longer periods for complex cases and remote areas."""
    choices = []
    if not petition.complex_case:
        choices.append(Button(ctx._("Complex case"), f"pa:complex:{petition.id}"))
    if not petition.remote_area:
        choices.append(Button(ctx._("Remote or hard-to-reach area"),
                              f"pa:remote:{petition.id}"))
    ctx.say(ctx._("Why is the deadline of {code} extended? (now {day})").format(
        code=petition.code, day=ctx.day(petition.answer_due)), *choices)
    return END


async def extend(ctx: Ctx, petition: Petition, why: str) -> object:
    """Mark the case complex or remote; the answer deadline follows the law."""
    await service.set_flags(ctx.session, petition, actor=actor(ctx), now=ctx.now,
                            timezone=ctx.timezone, settings=await settings(ctx),
                            complex_case=True if why == "complex" else None,
                            remote=True if why == "remote" else None)
    return await show_card(ctx, petition, ctx._("{code}: the answer is now due by {day}.")
                           .format(code=petition.code, day=ctx.day(petition.answer_due)))


VIEWS = {"show": show_card, "files": show_files, "pin": show_pin, "take": take,
         "assign": ask_assignee, "extend": ask_extension}
FLOW = Flow.of("petition_desk", drafts.draft_input)
