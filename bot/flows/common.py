"""Small pieces several flows share: the commune's names, the office contact, re-asking."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot import i18n
from bot.flows.base import STAY, Ctx, Step
from bot.messages import Button, numbered_choices
from bot.services import refusals

CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "zalo_oa": "Zalo OA"}
# Each language is named in itself, never translated.
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def record_refusal(ctx: Ctx, what: str) -> None:
    """Log a refused staff action ("/role", "publish") with who tried, by reference."""
    refusals.in_chat(ctx.session, ctx.pseudonym_key, ctx.msg.channel, ctx.msg.user_id, what,
                     now=ctx.now)


def unit_name(ctx: Ctx) -> str:
    """"xã Chi Lăng" in Vietnamese, "Chi Lăng Commune" in English."""
    if ctx.commune is None:
        return ctx._("the commune")
    return i18n.unit_name(ctx.commune.name, ctx.commune.unit_type, ctx.user.locale)


def committee_name(ctx: Ctx) -> str:
    """"UBND xã Chi Lăng" in Vietnamese, "the People's Committee of Chi Lăng Commune"."""
    return ctx._("the People's Committee of {commune}").format(commune=unit_name(ctx))


def office_contact(ctx: Ctx) -> str:
    """How to reach the commune office in person: address, phone, email, as configured."""
    commune = ctx.commune
    parts = []
    if commune and commune.office_address:
        parts.append(commune.office_address)
    if commune and commune.office_phone:
        parts.append(ctx._("phone {phone}").format(phone=commune.office_phone))
    if commune and commune.office_email:
        parts.append(commune.office_email)
    if not parts:
        return ctx._("the reception office of {committee}").format(committee=committee_name(ctx))
    return ctx._("the reception office of {committee}: {details}").format(
        committee=committee_name(ctx), details="; ".join(parts)
    )


LABEL_LIMIT = 32  # characters of a fixed button label (the catalog test holds them to it)
TITLE_LABEL_LIMIT = 48  # a title or topic shown on a button, cut at a word


def shorten(text: str, limit: int = TITLE_LABEL_LIMIT) -> str:
    """`text` cut at the last whole word that fits, with "…": never "mở rộng đườn…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit - 1]
    return cut.rstrip(" ,.;:–-") + "…"


def tap(ctx: Ctx, label: str, buttons: Sequence[Button]) -> str:
    """How to choose `label` among `buttons` on this channel: "bấm “Xong”" where choices are
    buttons, "gõ số 1 (“Xong”)" where they are numbered lines."""
    if numbered_choices(ctx.msg.channel, len(buttons)):
        number = next((n for n, b in enumerate(buttons, 1) if b.label == label), None)
        if number is not None:
            return ctx._("type {number} (“{label}”)").format(number=number, label=label)
    return ctx._("tap “{label}”").format(label=label)


def main_menu_button(ctx: Ctx) -> Button:
    """The "Menu chính" button every sub-screen carries."""
    return Button(ctx._("Main menu"), "menu:main")


def reoffer(ctx: Ctx, text: str | None = None) -> object:
    """Say why the answer was not understood and show the same choices again."""
    count = len(ctx.offered)
    typed = ctx.msg.text.strip()
    if text is None and typed.isdigit() and count:
        text = ctx._("There is no option number {number}. Please type a number from 1 to {last}.")
        text = text.format(number=typed[:12], last=count)
    if text is None:
        text = (
            ctx._("Please choose one of the options below: tap a button or type its number.")
            if count
            else ctx._("Sorry, I did not understand. Type “menu” to see what I can do.")
        )
    ctx.say(text, *ctx.offered)
    return STAY


def today(ctx: Ctx) -> date:
    """The commune's calendar day now."""
    return ctx.now.astimezone(ZoneInfo(ctx.timezone)).date()


def staff_only(command: Callable[[Ctx], Awaitable[object]]) -> Step:
    """A staff command in a private chat: staff only; the conversation stays where it was
    unless the command asks for words (it then returns the step that takes them)."""

    async def run(ctx: Ctx) -> object:
        if not ctx.is_staff:
            record_refusal(ctx, f"/{ctx.msg.command}")
            ctx.say(ctx._("Not allowed: only commune staff can use this."))
            return STAY
        answer = await command(ctx)
        return STAY if answer is None else answer

    run.__name__ = run.__qualname__ = f"staff_{command.__name__}"
    return run
