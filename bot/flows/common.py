"""Small pieces several flows share: the commune's names, the office contact, re-asking."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot import i18n
from bot.flows.base import STAY, Ctx, Step
from bot.messages import Button
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


def parse_day(text: str, today: date | None = None) -> date | None:
    """A typed calendar day: "25/12/2026", "25-12-2026", "25.12.2026", "2026-12-25", or
    "25/12" (in the year of `today`, when given)."""
    cleaned = text.strip().replace(".", "/").replace("-", "/")
    parts = cleaned.split("/")
    if len(parts) == 2 and today is not None:
        parts.append(str(today.year))
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 4 for p in parts):
        return None
    if len(parts[0]) == 4:
        parts = [parts[2], parts[1], parts[0]]
    day, month, year = (int(p) for p in parts)
    if len(parts[2]) != 4:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


MOMENT_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%d/%m/%Y %Hh", "%d-%m-%Y %H:%M",
                  "%Y-%m-%d %H:%M", "%H:%M %d/%m/%Y")


def parse_moment(text: str, timezone: str) -> datetime | None:
    """A typed local day and time ("25/12/2026 07:00", "25/12/2026 7h"), or None."""
    cleaned = " ".join(text.split())
    for pattern in MOMENT_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern).replace(tzinfo=ZoneInfo(timezone))
        except ValueError:
            continue
    return None


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
