"""Petitions in the staff chat: the buttons on each new petition and the staff commands.

Buttons: "Nhận xử lý" (take it), "Thụ lý" (accept), "Đang xử lý", "Trả lời" (explains
/answer). Commands: `/answer CODE text`, `/status CODE STATUS [reason]`,
`/assign CODE NAME`, `/petitions` (what is due). bot.flows.groups has already checked that
this is the staff chat and that the person holds the staff or admin role.
"""

from __future__ import annotations

from bot.flows.base import Ctx
from bot.services import petition_notices
from bot.services import petitions as service
from bot.services.petition_statuses import ACCEPTED, IN_PROGRESS, OPEN, STATUS_LABELS, TRANSITIONS
from storage.models import Petition
from storage.repositories import Communes

STATUS_WORDS = ", ".join(sorted(TRANSITIONS))


def _actor(ctx: Ctx) -> str:
    return f"{ctx.msg.channel}:{ctx.msg.user_id}"


async def _settings(ctx: Ctx) -> service.Settings:
    return service.Settings.of(await Communes(ctx.session).current())


async def pressed(ctx: Ctx) -> None:
    """A button on a petition card: "pa:<verb>:<id>"."""
    _, verb, ident = ((ctx.msg.payload or "") + "::").split(":")[:3]
    petition = await ctx.session.get(Petition, int(ident)) if ident.isdigit() else None
    if petition is None:
        ctx.say(ctx._("This button is no longer active."), alert=True)
        return
    if verb == "answer":
        ctx.say(ctx._("To answer {code}, send: /answer {code} followed by the answer.")
                .format(code=petition.code))
        return
    try:
        if verb == "take":
            await service.assign(ctx.session, petition, _actor(ctx), actor=_actor(ctx),
                                 now=ctx.now)
            ctx.say(ctx._("{code} is now handled by {who}.").format(code=petition.code,
                                                                    who=_actor(ctx)))
            return
        status = {"accept": ACCEPTED, "progress": IN_PROGRESS}.get(verb)
        if status is None:
            ctx.say(ctx._("This button is no longer active."), alert=True)
            return
        await service.change_status(ctx.session, petition, status, actor=_actor(ctx),
                                    now=ctx.now, timezone=ctx.timezone,
                                    settings=await _settings(ctx))
    except service.PetitionError:
        ctx.say(ctx._("{code} cannot be moved to that status now (it is: {status}).").format(
            code=petition.code, status=ctx._(STATUS_LABELS[petition.status])),
            alert=True)
        return
    ctx.say(ctx._("{code}: {status}. The resident has been told.").format(
        code=petition.code, status=ctx._(STATUS_LABELS[petition.status])),
        *petition_notices.staff_buttons(petition, ctx.user.locale))


async def answer_command(ctx: Ctx) -> None:
    """/answer CODE the answer text…"""
    code, _, text = ctx.msg.args.strip().partition(" ")
    petition = await service.by_code(ctx.session, code) if code else None
    if petition is None or not text.strip():
        ctx.say(ctx._("Write: /answer CODE followed by the answer, e.g. /answer PA-2026-000123 "
                      "The lamp was replaced on 2/12."))
        return
    try:
        await service.answer(ctx.session, petition, text, actor=_actor(ctx), now=ctx.now,
                             timezone=ctx.timezone)
    except service.PetitionError:
        ctx.say(ctx._("{code} cannot be answered now (it is: {status}).").format(
            code=petition.code, status=ctx._(STATUS_LABELS[petition.status])))
        return
    ctx.say(ctx._("Answer to {code} sent to the resident.").format(code=petition.code))


async def status_command(ctx: Ctx) -> None:
    """/status CODE STATUS [reason…]"""
    parts = ctx.msg.args.split(maxsplit=2)
    petition = await service.by_code(ctx.session, parts[0]) if parts else None
    if petition is None or len(parts) < 2:
        ctx.say(ctx._("Write: /status CODE STATUS [reason]. Statuses: {statuses}.").format(
            statuses=STATUS_WORDS))
        return
    reason = parts[2] if len(parts) > 2 else None
    try:
        await service.change_status(ctx.session, petition, parts[1].lower(), actor=_actor(ctx),
                                    now=ctx.now, timezone=ctx.timezone,
                                    settings=await _settings(ctx), reason=reason)
    except service.PetitionError as exc:
        if exc.code == "reason":
            ctx.say(ctx._("A reason is needed: /status {code} {status} followed by the reason.")
                    .format(code=petition.code, status=parts[1].lower()))
        else:
            ctx.say(ctx._("{code} cannot be moved to that status now (it is: {status}).")
                    .format(code=petition.code,
                            status=ctx._(STATUS_LABELS[petition.status])))
        return
    ctx.say(ctx._("{code}: {status}. The resident has been told.").format(
        code=petition.code, status=ctx._(STATUS_LABELS[petition.status])))


async def assign_command(ctx: Ctx) -> None:
    """/assign CODE NAME: give the petition to a colleague."""
    code, _, who = ctx.msg.args.strip().partition(" ")
    petition = await service.by_code(ctx.session, code) if code else None
    if petition is None or not who.strip():
        ctx.say(ctx._("Write: /assign CODE followed by the colleague's name."))
        return
    await service.assign(ctx.session, petition, who.strip(), actor=_actor(ctx), now=ctx.now)
    ctx.say(ctx._("{code} is now handled by {who}.").format(code=petition.code,
                                                            who=who.strip()))


async def due_command(ctx: Ctx) -> None:
    """/petitions: open petitions due within 2 working days or overdue."""
    settings = await _settings(ctx)
    today = service.local_day(ctx.now, ctx.timezone)
    due = await service.listing(ctx.session, statuses=OPEN,
                                due_by=settings.calendar.add_working_days(today, 2))
    if not due:
        ctx.say(ctx._("No open petition is due within 2 working days."))
        return
    lines = [ctx._("Petitions to answer soon ({day}):").format(day=ctx.day(ctx.now))]
    for petition in due:
        late = ctx._("OVERDUE") if petition.answer_due < today else ctx._("due")
        lines.append(f"• {petition.code} — {late} {ctx.day(petition.answer_due)} — "
                     f"{ctx._(STATUS_LABELS[petition.status])}")
    ctx.say("\n".join(lines))


ACTIONS = {"pa": pressed}
COMMANDS = {"answer": answer_command, "status": status_command, "assign": assign_command,
            "petitions": due_command}
