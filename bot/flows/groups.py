"""Group chats: the staff chat and hamlet groups. Stateless: nothing is saved per group member.

The bot ignores ordinary chatter in groups, points `/start` to the private chat, lets an
admin link the group (`/link staff`, `/link CODE`), and guards the buttons posted in the
staff chat: only staff may press them. Features register what a staff button does in
`STAFF_ACTIONS`. Flows import no channel library.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.flows.base import Ctx
from bot.flows.common import committee_name, refused
from bot.services import groups
from storage.repositories import Hamlets

# payload prefix (before the first ":") -> what pressing such a button in the staff chat does
StaffAction = Callable[[Ctx], Awaitable[None]]
STAFF_ACTIONS: dict[str, StaffAction] = {}
# /command in the staff chat -> what it does (staff only), e.g. /answer, /export
STAFF_COMMANDS: dict[str, StaffAction] = {}


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
        refused(ctx, "/link")
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
        refused(ctx, f"staff button {(msg.payload or '').split(':', 1)[0]}")
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
        refused(ctx, f"/{msg.command}")
        ctx.say(ctx._("Not allowed: only commune staff can use these commands."))
        return
    await STAFF_COMMANDS[msg.command or ""](ctx)


async def _hamlet_codes(ctx: Ctx) -> str:
    return ", ".join(h.code for h in await Hamlets(ctx.session).active())
