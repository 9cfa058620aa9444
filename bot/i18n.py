"""Translations (gettext catalogs, one domain "messages") and local formatting.

The catalogs are edited in the repository's locales/*.po and compiled into the package's
bot/locales/*.mo (by the wheel's build step, or `make compile-catalogs` in a checkout).

Source strings are English; `vi` is the default locale. Dates are shown in the commune's
time zone the Vietnamese way ("08:30, thứ Hai, 01/12/2026").
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel.support import NullTranslations, Translations

from bot.config import SUPPORTED_LOCALES

CATALOGS_DIR = Path(__file__).resolve().parent / "locales"  # compiled .mo, inside the package
DOMAIN = "messages"


class CatalogMissing(RuntimeError):
    """A .po catalog has no compiled .mo next to it: run the install command."""


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The catalog for `locale`; unknown locales give the English source text."""
    if locale not in SUPPORTED_LOCALES:
        return NullTranslations()
    mo = CATALOGS_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.exists():
        raise CatalogMissing(
            f"{mo} is missing: reinstall the package, or in a checkout `make compile-catalogs`"
        )
    return Translations.load(str(CATALOGS_DIR), [locale], DOMAIN)


def N_(message: str) -> str:  # noqa: N802  (gettext's conventional name)
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


UNIT_NAMES = {  # how a commune is named, by unit type
    "xã": N_("{name} Commune"),
    "phường": N_("{name} Ward"),
    "đặc khu": N_("{name} Special Zone"),
}


def unit_name(name: str, unit_type: str, locale: str) -> str:
    """"xã Chi Lăng" in Vietnamese, "Chi Lăng Commune" in English (from "Xã Chi Lăng")."""
    if name.casefold().startswith(unit_type.casefold() + " "):
        name = name[len(unit_type) + 1 :]
    return translations(locale).gettext(UNIT_NAMES.get(unit_type, "{name}")).format(name=name)


def check_catalogs() -> None:
    """Fail loudly at start-up when a catalog was not compiled."""
    for locale in SUPPORTED_LOCALES:
        translations(locale)


_DATETIME_PATTERNS = {"vi": "HH:mm, EEEE, dd/MM/yyyy", "en": "EEEE d MMMM yyyy, HH:mm"}
_DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMMM yyyy"}


def format_datetime(moment: datetime, locale: str, timezone: str) -> str:
    """A moment in the commune's time zone: "08:30, thứ Hai, 01/12/2026" in vi."""
    local = moment.astimezone(ZoneInfo(timezone))
    pattern = _DATETIME_PATTERNS.get(locale, _DATETIME_PATTERNS["en"])
    text = babel_dates.format_datetime(local, pattern, locale=locale)
    if locale == "vi":  # CLDR writes "Thứ Ba", "Chủ Nhật"; in a sentence: "thứ Ba", "Chủ nhật"
        text = text.replace(", Thứ ", ", thứ ").replace("Chủ Nhật", "Chủ nhật")
    return text


def format_date(day: date | datetime, locale: str, timezone: str) -> str:
    """A calendar day: "01/12/2026" in vi, "1 December 2026" in en."""
    if isinstance(day, datetime):
        day = day.astimezone(ZoneInfo(timezone)).date()
    pattern = _DATE_PATTERNS.get(locale, _DATE_PATTERNS["en"])
    return babel_dates.format_date(day, pattern, locale=locale)
