"""Roles granted by an admin in the staff chat: `/role grant|revoke CHANNEL USER_ID ROLE
[HAMLET…]`, the same as `python -m bot role grant|revoke`. Only admins; every change is
logged with the admin as the actor (bot.services.roles)."""

from __future__ import annotations

from bot.flows.base import Ctx
from bot.flows.common import record_refusal
from bot.services import roles


async def role_command(ctx: Ctx) -> None:
    """/role grant telegram 123456 hamlet_head khu-1"""
    usage = ctx._("Write: /role grant|revoke CHANNEL USER_ID ROLE [HAMLET…], e.g. /role grant "
                  "telegram 123456789 hamlet_head khu-1. Roles: {roles}.").format(
                      roles=", ".join(roles.ROLES))
    if "admin" not in ctx.roles:
        record_refusal(ctx, "/role")
        ctx.say(ctx._("Only an administrator can change roles."))
        return
    parts = ctx.msg.args.split()
    if len(parts) < 4 or parts[0] not in ("grant", "revoke"):
        ctx.say(usage)
        return
    action, channel, user_id, role, hamlets = parts[0], parts[1], parts[2], parts[3], parts[4:]
    change = roles.grant if action == "grant" else roles.revoke
    try:
        count = await change(ctx.session, channel, user_id, role, hamlets,
                             actor=f"{ctx.msg.channel}:{ctx.msg.user_id}",
                             key=ctx.pseudonym_key)
    except roles.RoleError as exc:
        ctx.say(ctx._("The role could not be changed: {reason}.").format(reason=str(exc)))
        return
    done = (ctx._("Granted: {role} for {who} ({count} change(s)).") if action == "grant"
            else ctx._("Revoked: {role} for {who} ({count} change(s))."))
    ctx.say(done.format(role=role, who=f"{channel}:{user_id}", count=count))


COMMANDS = {"role": role_command}
