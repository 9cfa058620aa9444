"""Staff give words on a petition over several messages: the answer (text, photos and
documents, shown as a preview before it is sent), the reason for not accepting, and where a
petition is forwarded and why. The words wait in a DeskDraft row per person and chat.

In a private chat the engine keeps the person on `draft_input`; in the staff group the
prompts ask the channel for a reply to them (Telegram: force_reply), because with privacy
mode on the bot only sees commands and replies to its own messages (`group_input`).
"""

from __future__ import annotations

from bot.flows import menu
from bot.flows.base import END, STAY, Ctx
from bot.messages import Button
from bot.services import desk_drafts, roles
from bot.services import petitions as service
from bot.services.petition_statuses import (
    ANSWERED,
    FEEDBACK,
    FORWARDED,
    RECEIVED,
    REFUSED,
    STATUS_LABELS,
    moves,
)
from storage.models import DeskDraft, Petition


def _key(ctx: Ctx) -> tuple[str, str, str]:
    return ctx.msg.channel, ctx.msg.chat_id or ctx.msg.user_id, ctx.msg.user_id


def _actor(ctx: Ctx) -> str:
    return roles.identity(ctx.msg.channel, ctx.msg.user_id)


def _ask(ctx: Ctx, text: str) -> None:
    """A question whose answer is typed: in a group, as a reply to it."""
    ctx.say(text, wants_reply=ctx.msg.chat_id is not None)


def not_answerable(ctx: Ctx, petition: Petition) -> str:
    """Why a petition cannot be answered now, and what to do instead."""
    if petition.kind != FEEDBACK and petition.status == RECEIVED:
        return ctx._(
            "{code} is not accepted yet, so it cannot be answered. First accept it (the "
            "“Accept (thụ lý)” button, or /status {code} thụ lý), then answer. If it is not "
            "to be accepted, press “Do not accept” and give the reason."
        ).format(code=petition.code)
    return ctx._("{code} cannot be answered now (it is: {status}).").format(
        code=petition.code, status=ctx._(STATUS_LABELS[petition.status]))


async def _start(ctx: Ctx, petition: Petition, action: str) -> DeskDraft:
    channel, chat, user = _key(ctx)
    return await desk_drafts.start(ctx.session, channel, chat, user, petition_id=petition.id,
                                   action=action, now=ctx.now)


async def start_answer(ctx: Ctx, petition: Petition) -> object:
    """"Trả lời": ask for the answer; the next messages form the draft."""
    if ANSWERED not in moves(petition.kind, petition.status):
        ctx.say(not_answerable(ctx, petition))
        return STAY
    await _start(ctx, petition, "answer")
    _ask(ctx, ctx._("Write the answer to {code} for the resident. You may send several "
                    "messages, photos and documents; a preview comes before it is sent.")
         .format(code=petition.code))
    return draft_input


async def start_refusal(ctx: Ctx, petition: Petition) -> object:
    """"Không thụ lý": ask for the reason the resident will read."""
    if REFUSED not in moves(petition.kind, petition.status):
        return _cannot(ctx, petition)
    await _start(ctx, petition, "refuse")
    _ask(ctx, ctx._("Why is {code} not accepted? The resident will read this reason.")
         .format(code=petition.code))
    return draft_input


async def start_forward(ctx: Ctx, petition: Petition) -> object:
    """"Chuyển đơn": ask to whom, then why."""
    if FORWARDED not in moves(petition.kind, petition.status):
        return _cannot(ctx, petition)
    await _start(ctx, petition, "forward")
    _ask(ctx, ctx._("To which body is {code} forwarded? (for example: UBND huyện, Công an "
                    "xã)").format(code=petition.code))
    return draft_input


def _cannot(ctx: Ctx, petition: Petition) -> object:
    ctx.say(ctx._("{code} cannot be moved to that status now (it is: {status}).").format(
        code=petition.code, status=ctx._(STATUS_LABELS[petition.status])), alert=True)
    return STAY


async def draft_input(ctx: Ctx) -> object:
    """A message while a draft is open in a private chat."""
    draft = await desk_drafts.current(ctx.session, *_key(ctx))
    if draft is None or not ctx.is_staff:
        return await menu.open_menu(ctx)
    return await _take(ctx, draft)


async def group_input(ctx: Ctx) -> None:
    """A reply to the bot in the staff group: words for the person's open draft, if any."""
    draft = await desk_drafts.current(ctx.session, *_key(ctx))
    if draft is not None and ctx.is_staff:
        await _take(ctx, draft)


async def _take(ctx: Ctx, draft: DeskDraft) -> object:
    petition = await ctx.session.get(Petition, draft.petition_id)
    if petition is None:
        await desk_drafts.drop(ctx.session, draft)
        return END
    if draft.action == "answer":
        desk_drafts.add(draft, ctx.msg.text, ctx.msg.attachments, ctx.msg.channel, ctx.now)
        ctx.session.add(draft)
        return _preview(ctx, draft, petition)
    text = " ".join(ctx.msg.text.split())
    if not text:
        _ask(ctx, ctx._("Please type it in words."))
        return draft_input
    if draft.action == "forward" and draft.target is None:
        draft.target = text[:300]
        ctx.session.add(draft)
        _ask(ctx, ctx._("Why is {code} forwarded to {body}? The resident will read this.")
             .format(code=petition.code, body=draft.target))
        return draft_input
    status = REFUSED if draft.action == "refuse" else FORWARDED
    reason = text if status == REFUSED else ctx._("to {body}: {reason}").format(
        body=draft.target, reason=text)
    await desk_drafts.drop(ctx.session, draft)
    try:
        await service.change_status(ctx.session, petition, status, actor=_actor(ctx),
                                    now=ctx.now, timezone=ctx.timezone,
                                    settings=service.Settings.of(ctx.commune), reason=reason)
    except service.PetitionError:
        return _cannot(ctx, petition)
    from bot.flows import petition_desk  # it imports this module

    return await petition_desk.show_card(ctx, petition, ctx._(
        "{code}: {status}. The resident has been told, with the reason.").format(
            code=petition.code, status=ctx._(STATUS_LABELS[petition.status])))


def _preview(ctx: Ctx, draft: DeskDraft, petition: Petition) -> object:
    lines = [ctx._("Preview of the answer to {code}:").format(code=petition.code), "",
             draft.text or ctx._("(no text yet)")]
    if count := len(draft.files):
        lines.append(ctx.ngettext("{count} file attached.", "{count} files attached.", count)
                     .format(count=count))
    lines += ["", ctx._("Reply to this message to add more, or choose:")
              if ctx.msg.chat_id else ctx._("Send more to add to it, or choose:")]
    ctx.say("\n".join(lines), Button(ctx._("Send the answer"), f"pa:send:{petition.id}"),
            Button(ctx._("Rewrite"), f"pa:redo:{petition.id}"),
            Button(ctx._("Cancel"), f"pa:drop:{petition.id}"))
    return draft_input


async def send(ctx: Ctx, petition: Petition) -> object:
    """"Gửi trả lời": the answer and its files go to the resident on their channel."""
    draft = await desk_drafts.current(ctx.session, *_key(ctx))
    if draft is None or draft.action != "answer" or draft.petition_id != petition.id:
        ctx.say(ctx._("This button is no longer active."), alert=True)
        return STAY
    if not draft.text.strip():
        _ask(ctx, ctx._("The answer needs some words for the resident; please type them."))
        return draft_input
    try:
        await service.answer(ctx.session, petition, draft.text, actor=_actor(ctx), now=ctx.now,
                             timezone=ctx.timezone, files=draft.files)
    except service.PetitionError:
        ctx.say(not_answerable(ctx, petition))
        return STAY
    await desk_drafts.drop(ctx.session, draft)
    from bot.flows import petition_desk  # it imports this module

    return await petition_desk.show_card(ctx, petition, ctx._(
        "Answer to {code} sent to the resident.").format(code=petition.code))


async def rewrite(ctx: Ctx, petition: Petition) -> object:
    """"Sửa": start the answer again."""
    return await start_answer(ctx, petition)


async def cancel(ctx: Ctx, petition: Petition) -> object:
    """"Hủy": forget the draft."""
    await desk_drafts.drop(ctx.session, await desk_drafts.current(ctx.session, *_key(ctx)))
    ctx.say(ctx._("Cancelled. Nothing was sent."))
    return END


STARTS = {"answer": start_answer, "refuse": start_refusal, "forward": start_forward}
PRESSES = {"send": send, "redo": rewrite, "drop": cancel}
