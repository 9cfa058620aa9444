"""The notices I sent ("Thông báo đã gửi"): delivery progress of each, and cancelling one
not yet (fully) sent. Steps of the notice flow (bot.flows.notices). Imports no channel library.
"""

from __future__ import annotations

from bot.flows import menu
from bot.flows.base import Ctx
from bot.flows.common import main_menu_button, reoffer
from bot.i18n import N_
from bot.messages import Button
from bot.services import broadcasts
from bot.typed import ascii_int
from storage.models import Broadcast


def actor(ctx: Ctx) -> str:
    """How the log and the broadcast name the person writing."""
    return f"{ctx.msg.channel}:{ctx.msg.user_id}"


async def show_mine(ctx: Ctx, intro: str = "") -> object:
    """My notices with their delivery progress; a scheduled one can be cancelled."""
    mine = [b for b in await broadcasts.listing(ctx.session, 100)
            if b.created_by == actor(ctx)][:10]
    if not mine:
        return menu.show(ctx, ctx._("You have not sent any notice yet."))
    lines, buttons = [intro, ctx._("Your notices (newest first):")], []
    for item in mine:
        counts = await broadcasts.progress(ctx.session, item.id)
        total = sum(counts.values())
        lines.append(ctx._("• No. {number}: sent {sent}/{total}, {status} — {text}").format(
            number=item.id, sent=counts.get("sent", 0), total=total,
            status=ctx._(STATUS_WORDS.get(item.status, item.status)), text=item.text[:40]))
        if item.status in (broadcasts.SCHEDULED, broadcasts.PAUSED) or counts.get("pending"):
            buttons.append(Button(ctx._("Cancel no. {number}").format(number=item.id),
                                  f"nt:stop:{item.id}"))
    ctx.say("\n".join(line for line in lines if line), *buttons, main_menu_button(ctx))
    return mine_step


async def mine_step(ctx: Ctx) -> object:
    """Cancel one of my notices."""
    chosen = ctx.chosen or ""
    if chosen.startswith("nt:stop:") and ascii_int(chosen[8:]) is not None:
        item = await ctx.session.get(Broadcast, int(chosen[8:]))
        if item is None or item.created_by != actor(ctx):
            return reoffer(ctx)
        count = await broadcasts.cancel(ctx.session, item, actor(ctx))
        return await show_mine(ctx, ctx._("Cancelled; {count} message(s) not sent.").format(
            count=count))
    return reoffer(ctx)


STATUS_WORDS = {
    broadcasts.SCHEDULED: N_("scheduled"),
    broadcasts.PAUSED: N_("paused"),
    broadcasts.DONE: N_("queued"),
    broadcasts.CANCELLED: N_("cancelled"),
}

