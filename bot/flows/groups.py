"""Group chats: the staff chat and hamlet groups. Stateless: nothing is saved per group member.

The bot ignores ordinary chatter in groups, points `/start` to the private chat, lets an
admin link the group (`/link staff`, `/link CODE`), and guards the buttons posted in the
staff chat: only staff may press them. Features register what a staff button does in
`STAFF_ACTIONS`. Flows import no channel library.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.flows.base import Ctx
from bot.flows.common import committee_name, record_refusal
from bot.services import groups
from storage.repositories import Hamlets

# payload prefix (before the first ":") -> what pressing such a button in the staff chat does
StaffAction = Callable[[Ctx], Awaitable[None]]
STAFF_ACTIONS: dict[str, StaffAction] = {}
# /command in the staff chat -> what it does (staff only), e.g. /answer, /export
STAFF_COMMANDS: dict[str, StaffAction] = {}
# what a reply to one of the bot's messages in the staff chat goes to (the words a staff
# prompt asked for); each one ignores what is not for it
STAFF_INPUTS: list[StaffAction] = []


async def handle(ctx: Ctx) -> None:
    """Answer one event from a group chat (most get no answer at all)."""
    msg = ctx.msg
    if msg.event == "added":
        await added(ctx)
    elif msg.event == "removed":
        await removed(ctx)
    elif msg.payload:
        await pressed(ctx)
    elif msg.command == "link":
        await link_here(ctx)
    elif msg.command in STAFF_COMMANDS:
        await staff_command(ctx)
    elif msg.reply_to_bot:
        await staff_input(ctx)
    elif msg.command in ("help", "menu") and await _in_staff_chat(ctx) and ctx.is_staff:
        ctx.say(staff_help(ctx))
    elif msg.command in ("start", "help", "menu"):
        ctx.say(ctx._(
            "I answer residents in a private chat. Open a chat with me (tap my name, then "
            "“Message”) to read public information, send a petition or register for a "
            "dialogue session."
        ))


def _actor(ctx: Ctx) -> str:
    return f"{ctx.msg.channel}:{ctx.msg.user_id}"


async def added(ctx: Ctx) -> None:
    """The bot was added to a group: tell an admin how to link it, anyone else who can."""
    if await groups.get(ctx.session, ctx.msg.channel, ctx.msg.chat_id or ""):
        return
    if await groups.is_admin(ctx.session, ctx.msg.channel, ctx.msg.user_id):
        ctx.say(ctx._(
            "Hello! To link this group, send /link staff (the staff chat) or /link followed "
            "by a hamlet code: {codes}."
        ).format(codes=await _hamlet_codes(ctx)))
        return
    ctx.say(ctx._(
        "Hello! An administrator of {committee} must link this group before I can serve it. "
        "Until then I stay quiet here."
    ).format(committee=committee_name(ctx)))


async def removed(ctx: Ctx) -> None:
    """The bot left or was removed: forget the link."""
    await groups.unlink(ctx.session, ctx.msg.channel, ctx.msg.chat_id or "", _actor(ctx))


async def link_here(ctx: Ctx) -> None:
    """/link staff or /link HAMLETCODE, by an admin."""
    msg = ctx.msg
    if not await groups.is_admin(ctx.session, msg.channel, msg.user_id):
        record_refusal(ctx, "/link")
        ctx.say(ctx._("Only an administrator can link this group."))
        return
    target = msg.args.strip()
    staff = target.casefold() == "staff"
    hamlet = None if staff else await Hamlets(ctx.session).by_code(target)
    if not staff and (hamlet is None or not hamlet.active):
        ctx.say(ctx._("Please write /link staff or /link followed by a hamlet code: {codes}.")
                .format(codes=await _hamlet_codes(ctx)))
        return
    await groups.link(ctx.session, msg.channel, msg.chat_id or "", staff=staff,
                      hamlet=hamlet.code if hamlet else None, actor=_actor(ctx))
    if staff:
        ctx.say(ctx._("Linked: this group is now the staff chat."))
    else:
        ctx.say(ctx._("Linked: this group now belongs to {hamlet}.").format(hamlet=hamlet.name))


async def pressed(ctx: Ctx) -> None:
    """A button in a group: only staff may press buttons in the staff chat."""
    msg = ctx.msg
    link = await groups.get(ctx.session, msg.channel, msg.chat_id or "")
    if link is None or link.kind != groups.STAFF:
        ctx.say(ctx._("This button is no longer active."), alert=True)
        return
    if not await groups.may_press_staff_buttons(ctx.session, msg.channel, msg.user_id):
        record_refusal(ctx, f"staff button {(msg.payload or '').split(':', 1)[0]}")
        ctx.say(ctx._("Not allowed: only commune staff can use these buttons."), alert=True)
        return
    action = STAFF_ACTIONS.get((msg.payload or "").split(":", 1)[0])
    if action is None:
        ctx.say(ctx._("This button is no longer active."), alert=True)
        return
    await action(ctx)


async def staff_command(ctx: Ctx) -> None:
    """A staff command: only in the staff chat, only from staff (others get no answer)."""
    msg = ctx.msg
    link = await groups.get(ctx.session, msg.channel, msg.chat_id or "")
    if link is None or link.kind != groups.STAFF:
        return
    if not await groups.may_press_staff_buttons(ctx.session, msg.channel, msg.user_id):
        record_refusal(ctx, f"/{msg.command}")
        ctx.say(ctx._("Not allowed: only commune staff can use these commands."))
        return
    await STAFF_COMMANDS[msg.command or ""](ctx)


async def staff_input(ctx: Ctx) -> None:
    """A reply to the bot in the staff chat, from staff: the words a prompt asked for."""
    if await _in_staff_chat(ctx) and ctx.is_staff:
        for take in STAFF_INPUTS:
            await take(ctx)


async def _in_staff_chat(ctx: Ctx) -> bool:
    link = await groups.get(ctx.session, ctx.msg.channel, ctx.msg.chat_id or "")
    return link is not None and link.kind == groups.STAFF


def staff_help(ctx: Ctx) -> str:
    """Staff commands, in the staff chat and in a private chat with staff."""
    return ctx._(
        "Commands for commune staff:\n"
        "• /petitions: petitions to handle, overdue first (filters: new, mine, overdue, "
        "reopened, by type)\n"
        "• /answer CODE: answer a petition (text, photos, documents; a preview comes first)\n"
        "• /status CODE STATUS [reason]: e.g. /status KN-2026-000012 thụ lý; statuses: thụ "
        "lý, đang xử lý, không thụ lý, chuyển, trả lời, đóng (with or without accents)\n"
        "• /assign CODE NAME: give a petition to a colleague\n"
        "• /export log|petitions|sessions|comments FROM TO: a file of the records\n"
        "• /report YEAR: the yearly report\n"
        "The buttons on each petition do the same: accept, answer, forward, assign, close."
    )


async def _hamlet_codes(ctx: Ctx) -> str:
    return ", ".join(h.code for h in await Hamlets(ctx.session).active())
