"""A hamlet head marks a notice as relayed to their hamlet's group ("Relayed" button).

The button comes with the ready-to-forward notice (bot.services.relays). Flows import no
channel library.
"""

from __future__ import annotations

from bot.flows.base import END, Ctx
from bot.flows.common import main_menu_button
from bot.services import relays
from bot.typed import ascii_int


async def open_link(ctx: Ctx, arg: str) -> object:
    """"go:relay:ID": record that the head forwarded notice ID to the group."""
    marked = None
    if (ident := ascii_int(arg)) is not None:
        marked = await relays.mark_relayed(ctx.session, ident, ctx.msg.channel,
                                           ctx.msg.user_id, ctx.pseudonym_key)
    if marked is None:
        ctx.say(ctx._("This button is no longer active."), main_menu_button(ctx))
    elif marked:
        ctx.say(ctx._("Thank you! The notice is recorded as relayed to the group."),
                main_menu_button(ctx))
    else:
        ctx.say(ctx._("This notice was already recorded as relayed."), main_menu_button(ctx))
    return END
