"""Staff commands on petitions, in a private chat and in the staff group, on every channel:
`/petitions [filter]` (the queue), `/answer CODE [text]`, `/status CODE STATUS [reason]`
with Vietnamese status words ("thụ lý", "dang xu ly", "không thụ lý lý do…"), and
`/assign CODE NAME`. Buttons are in bot.flows.petition_desk. In the staff group
bot.flows.groups has checked the role; in a private chat bot.flows.common.staff_only
does.
"""

from __future__ import annotations

import dataclasses

from bot.flows import petition_desk as desk
from bot.flows import petition_drafts as drafts
from bot.flows.base import STAY, Ctx
from bot.services import petitions as service
from bot.services import roles, status_words
from bot.services.petition_statuses import ANSWERED, NEEDS_REASON, STATUS_LABELS
from bot.textfold import fold


async def answer_command(ctx: Ctx) -> object:
    """/answer CODE [the answer…]: with text it is sent at once; without, it is asked for."""
    code, _, text = ctx.msg.args.strip().partition(" ")
    petition = await service.by_code(ctx.session, code) if code else None
    if petition is None:
        ctx.say(ctx._("Write: /answer CODE followed by the answer, e.g. /answer PA-2026-000123 "
                      "The lamp was replaced on 2/12."))
        return STAY
    if not text.strip():
        return await drafts.start_answer(ctx, petition)
    try:
        await service.answer(ctx.session, petition, text, actor=desk.actor(ctx), now=ctx.now,
                             timezone=ctx.timezone)
    except service.PetitionError:
        ctx.say(drafts.not_answerable(ctx, petition))
        return STAY
    ctx.say(ctx._("Answer to {code} sent to the resident.").format(code=petition.code))
    return STAY


async def status_command(ctx: Ctx) -> object:
    """/status CODE STATUS [reason…], the status in Vietnamese words or English codes."""
    code, _, rest = ctx.msg.args.strip().partition(" ")
    petition = await service.by_code(ctx.session, code) if code else None
    accepted = ", ".join(status_words.SHOWN)
    if petition is None:
        ctx.say(ctx._("Write: /status CODE STATUS [reason], e.g. /status KN-2026-000012 thụ lý. "
                      "Statuses: {statuses}.").format(statuses=accepted))
        return STAY
    status, reason = status_words.status_of(rest)
    if status is None:
        ctx.say(ctx._("“{typed}” is not a status I know. Write one of: {statuses}.").format(
            typed=rest.strip() or "…", statuses=accepted))
        return STAY
    if status == ANSWERED:
        if reason:
            ctx.msg = dataclasses.replace(ctx.msg, args=f"{code} {reason}")
            return await answer_command(ctx)
        return await drafts.start_answer(ctx, petition)
    if status in NEEDS_REASON and not reason:
        ctx.say(ctx._("A reason is needed: /status {code} {status} followed by the reason, "
                      "which the resident will read.").format(code=petition.code,
                                                              status=rest.strip()))
        return STAY
    try:
        await service.change_status(ctx.session, petition, status, actor=desk.actor(ctx),
                                    now=ctx.now, timezone=ctx.timezone,
                                    settings=await desk.settings(ctx), reason=reason or None)
    except service.PetitionError:
        ctx.say(ctx._("{code} cannot be moved to that status now (it is: {status}).")
                .format(code=petition.code, status=ctx._(STATUS_LABELS[petition.status])))
        return STAY
    ctx.say(ctx._("{code}: {status}. The resident has been told.").format(
        code=petition.code, status=ctx._(STATUS_LABELS[petition.status])))
    return STAY


async def assign_command(ctx: Ctx) -> object:
    """/assign CODE NAME: give the petition to a colleague (by the name staff see)."""
    code, _, who = ctx.msg.args.strip().partition(" ")
    petition = await service.by_code(ctx.session, code) if code else None
    if petition is None or not who.strip():
        ctx.say(ctx._("Write: /assign CODE followed by the colleague's name."))
        return STAY
    names = await roles.staff_names(ctx.session)
    typed = fold(who)
    found = [key for key, name in names.items() if name and typed in fold(name)]
    assignee = found[0] if len(found) == 1 else who.strip()
    await service.assign(ctx.session, petition, assignee, actor=desk.actor(ctx), now=ctx.now)
    ctx.say(ctx._("{code} is now handled by {who}.").format(
        code=petition.code, who=roles.display(names, assignee, ctx._("a colleague"))))
    return STAY


ACTIONS = {"pa": desk.pressed, "pq": desk.page_pressed}
COMMANDS = {"answer": answer_command, "status": status_command, "assign": assign_command,
            "petitions": desk.open_queue}
