"""Who sends a petition, when not anonymously: full name, address (complaints and
denunciations) and phone number. A step of bot.flows.petitions' flow; it goes on to the
field (petitions.ask_field)."""

from __future__ import annotations

from bot import typed
from bot.flows import petitions
from bot.flows.base import STAY, Ctx, asks_personal_data
from bot.flows.common import main_menu_button, tap
from bot.messages import CONTACT, REQUEST_CHANNELS, Button, Request
from bot.services.petition_statuses import COMPLAINT, DENUNCIATION, FEEDBACK

MAX_NAME = 200


def ask_full_name(ctx: Ctx) -> object:
    """Who sends it: the law requires the full name of a complainant or denouncer."""
    reason = {
        FEEDBACK: ctx._("Your name and phone number are shown to the commune staff handling "
                        "it, so that they can call you back."),
        COMPLAINT: ctx._("The law requires the name and address of the person who complains."),
        DENUNCIATION: ctx._("Your name and address are kept secret and seen only by the "
                            "officer handling denunciations."),
    }[ctx.data["kind"]]
    ctx.say(reason + "\n\n" + ctx._("Please type your full name:"), main_menu_button(ctx))
    return full_name


@asks_personal_data
async def full_name(ctx: Ctx) -> object:
    """Keep the name, ask for the address."""
    name = " ".join(ctx.msg.text.split())
    if len(name) < 2 or len(name) > MAX_NAME or ctx.chosen:
        ctx.say(ctx._("Please type your full name (for example: Nguyễn Văn An)."),
                *ctx.offered)
        return STAY
    ctx.data["full_name"] = name
    if ctx.data["kind"] == FEEDBACK:
        ctx.say(ctx._("A phone number the commune staff can call you on. Type it or share "
                      "your contact:"), main_menu_button(ctx))
        return phone
    ctx.say(ctx._("Your address (house number, street or hamlet, commune):"),
            main_menu_button(ctx))
    return home_address


@asks_personal_data
async def home_address(ctx: Ctx) -> object:
    """Keep the address, ask for an optional phone number."""
    address = " ".join(ctx.msg.text.split())
    if len(address) < 3 or len(address) > petitions.MAX_ADDRESS or ctx.chosen:
        ctx.say(ctx._("Please type your address."), *ctx.offered)
        return STAY
    ctx.data["home_address"] = address
    buttons = (Button(ctx._("Skip"), "pt:skip"), main_menu_button(ctx))
    skip = tap(ctx, buttons[0].label, buttons)
    if ctx.msg.channel in REQUEST_CHANNELS:
        share = Request(CONTACT, ctx._("📞 Send my phone number"))
        ctx.say(ctx._("A phone number the commune may call you on (optional): tap “{share}”, "
                      "type it, or {skip}.").format(share=share.label, skip=skip),
                *buttons, requests=(share,))
    else:
        ctx.say(ctx._("A phone number the commune may call you on (optional): type it, or "
                      "{skip}.").format(skip=skip), *buttons)
    return phone


@asks_personal_data
async def phone(ctx: Ctx) -> object:
    """Keep the phone number if given."""
    if ctx.chosen == "pt:skip":
        ctx.data["phone"] = None
    elif ctx.msg.contact:
        ctx.data["phone"] = typed.phone(ctx.msg.contact.phone) or ctx.msg.contact.phone[:30]
    elif number := typed.phone(ctx.msg.text):
        ctx.data["phone"] = number
    else:
        skip = next((b.label for b in ctx.offered if b.payload == "pt:skip"), "")
        ctx.say(ctx._("That does not look like a phone number. Please type it again (for "
                      "example 0912 345 678), or {skip}.").format(
                          skip=tap(ctx, skip, ctx.offered)), *ctx.offered)
        return STAY
    return petitions.ask_field(ctx)
