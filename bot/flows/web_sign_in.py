"""`/web` and the staff menu's "Open the desk on the web": a one-time sign-in link to the
web desk (bot.services.web_access), sent only in a private chat."""

from __future__ import annotations

from bot.flows.base import STAY, Ctx
from bot.flows.common import main_menu_button, record_refusal
from bot.services import web_access


async def send_link(ctx: Ctx) -> object:
    """Answer a staff member with a link good once, for ten minutes."""
    if not ctx.is_staff:
        record_refusal(ctx, "/web")
        ctx.say(ctx._("Not allowed: only commune staff can use this."))
        return STAY
    token = await web_access.issue_link(ctx.session, ctx.msg.channel, ctx.msg.user_id, ctx.now)
    url = web_access.link_url(ctx.web_base_url or "", token)
    ctx.say(ctx._(
        "Your sign-in link to the desk on the web:\n{url}\n\nIt works once, within "
        "{minutes} minutes, in the browser you open it in. Do not forward it: whoever opens "
        "it works under your name. The session ends after {hours} hours, or when you sign "
        "out.").format(url=url, minutes=web_access.LINK_MINUTES,
                       hours=web_access.SESSION_HOURS),
        main_menu_button(ctx))
    return STAY
