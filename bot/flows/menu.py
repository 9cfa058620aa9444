"""The main menu, help, /cancel, and the honest "coming soon" for features not built yet.

Features whose flow exists register in `bot.flows.ENTRIES`; this module only draws the menu.
"""

from __future__ import annotations

from bot.flows.base import END, STAY, Ctx, Flow
from bot.flows.common import committee_name, main_menu_button, office_contact, reoffer
from bot.i18n import N_
from bot.messages import Button

# (payload name, English msgid of the label, needs consent)
MENU_ITEMS = (
    ("disclosures", N_("Public information"), False),
    ("petition", N_("Send feedback or a petition"), True),
    ("my_petitions", N_("My petitions"), True),
    ("sessions", N_("Dialogue sessions"), True),
    ("settings", N_("Settings"), False),  # the data subject's rights need no consent
    ("help", N_("Help"), False),
)
STAFF_ITEMS = (
    ("desk", N_("Petitions to handle")),
    ("publish", N_("Publish information")),
    ("session_desk", N_("Dialogue sessions (staff)")),
    ("web", N_("Open the desk on the web")),
)
NOTICE_ITEM = ("notice", N_("Send a notice"))  # staff and hamlet heads
# The commands channels with a command menu show next to the text field (name, description).
COMMAND_MENU = (
    ("menu", N_("Main menu")),
    ("start", N_("Start, or come back to the beginning")),
    ("help", N_("Help")),
    ("lang", N_("Language")),
    ("cancel", N_("Stop what you are doing")),
)
LIMITED_ITEMS = (
    ("disclosures", N_("Public information")),
    ("privacy", N_("Review the privacy notice")),
    ("lang", N_("Language")),
    ("settings", N_("Settings")),
    ("help", N_("Help")),
)


def has_consent(ctx: Ctx) -> bool:
    """True when the user agreed to the current or an earlier privacy notice."""
    return ctx.user.consent_version is not None


def menu_buttons(ctx: Ctx) -> list[Button]:
    """The full menu for users who consented, a reduced one for those who declined."""
    if has_consent(ctx):
        items = [(name, label) for name, label, _ in MENU_ITEMS]
        if ctx.is_staff:
            items[-2:-2] = STAFF_ITEMS  # before Settings and Help
        if ctx.is_staff or "hamlet_head" in ctx.roles:
            items[-2:-2] = [NOTICE_ITEM]
        return [Button(_label(ctx, name, label), f"go:{name}") for name, label in items]
    return [Button(ctx._(label), f"go:{name}") for name, label in LIMITED_ITEMS]


def _label(ctx: Ctx, name: str, label: str) -> str:
    """A menu label; the desk's carries the number of open petitions."""
    if name == "desk" and ctx.open_petitions is not None:
        return f"{ctx._(label)} ({ctx.open_petitions})"
    return ctx._(label)


def show(ctx: Ctx, text: str | None = None) -> object:
    """Queue the main menu and wait for a choice."""
    ctx.say(text or ctx._("Main menu. What would you like to do?"), *menu_buttons(ctx))
    return choice


async def open_menu(ctx: Ctx) -> object:
    """/menu, the "Main menu" button, and text typed outside any flow (maybe a code)."""
    if ctx.msg.text and not ctx.msg.command:
        from bot.flows import short_link  # the registry imports this module

        if (link := short_link(ctx.msg.text)) is not None:
            return await link(ctx)
    return show(ctx)


async def choice(ctx: Ctx) -> object:
    """Anything typed or sent at the menu that is not one of its entries.

    A staff member sending a document here starts publishing it; a short code ("s12")
    opens what it stands for; anything else is understood by bot.flows.free_text.
    """
    if ctx.msg.attachments and ctx.is_staff:
        from bot.flows import publish  # publish imports this module

        return await publish.start_with_document(ctx)
    if "hamlet_head" in ctx.roles and (ctx.msg.attachments or len(ctx.msg.text) > 40):
        from bot.flows import notices  # a forwarded announcement: send it on to the hamlet

        return await notices.start_with_message(ctx)
    from bot.flows import free_text, short_link  # the registry imports this module

    if (link := short_link(ctx.msg.text)) is not None:
        return await link(ctx)
    return await free_text.understand(ctx)


async def cancel(ctx: Ctx) -> object:
    """/cancel: leave whatever was going on, keep nothing of it."""
    return show(ctx, ctx._("Cancelled. Nothing was saved. What would you like to do next?"))


def help_body(ctx: Ctx) -> str:
    """The guide: words to type, not commands."""
    return ctx._(
        "I am the automated assistant of {committee}.\n\n"
        "• To choose, tap a button or type its number or its name, with or without "
        "accents.\n"
        "• Type “menu” for the main menu, “cancel” to stop what you are doing, “back” to "
        "go back, “help” for this guide.\n"
        "• Type a few words about a problem (for example: “đèn đường hỏng”): I will help "
        "you send it to the commune or find public information about it.\n"
        "• Type a tracking code (for example: PA-2026-000123) to see that petition.\n"
        "• You can send a photo or a voice message with a petition.\n\n"
        "To talk to a person, contact {office}."
    ).format(committee=committee_name(ctx), office=office_contact(ctx))


async def help_text(ctx: Ctx) -> object:
    """/help, the "Help" entry and the typed word "giúp" (staff also see their commands)."""
    text = help_body(ctx)
    if ctx.is_staff:
        from bot.flows.groups import staff_help  # groups imports nothing of the menu

        text += "\n\n" + staff_help(ctx)
    ctx.say(text, main_menu_button(ctx))
    return choice if ctx.user.onboarded_at else END


async def coming_soon(ctx: Ctx, label: str) -> object:
    """An entry whose feature is not built yet: say so plainly and offer the office."""
    text = ctx._(
        "“{feature}” is not available in the chat yet; it is coming soon. "
        "Meanwhile, please contact {office}."
    ).format(feature=ctx._(label), office=office_contact(ctx))
    return show(ctx, text)


async def needs_consent(ctx: Ctx) -> object:
    """A feature that stores personal data, asked for by someone who declined the notice."""
    text = ctx._(
        "This service needs your consent to the privacy notice, because it keeps some of "
        "your data. Tap “Review the privacy notice” if you wish to agree, or contact {office}."
    ).format(office=office_contact(ctx))
    return show(ctx, text)


async def stale_button(ctx: Ctx) -> object:
    """A button from an older message that no longer applies."""
    if not ctx.offered:
        return show(ctx, ctx._("That button belongs to an older message. Here is the menu."))
    return reoffer(ctx, ctx._("That button belongs to an older message. Please choose again:"))


async def unknown_command(ctx: Ctx) -> object:
    """A /command we do not know."""
    text = ctx._("I do not know the command /{command}. Type “help” to see what I can do.")
    ctx.say(text.format(command=(ctx.msg.command or "")[:32]), *ctx.offered)
    return STAY


async def empty_message(ctx: Ctx) -> object:
    """A message with nothing we can read (empty text, an unsupported sticker…)."""
    return reoffer(ctx, ctx._("I received an empty message. Please type your answer or choose:"))


async def lost_place(ctx: Ctx) -> object:
    """The saved step no longer exists (the bot was updated mid-conversation)."""
    return show(ctx, ctx._("The bot has been updated, so we start again from the main menu."))


FLOW = Flow.of("menu", choice)
