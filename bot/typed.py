"""What people type for a phone number, a day, a time or a rating, read one way everywhere.

Pure functions, no I/O: flows (resident and staff) and services call them. Residents type
without accents, with spaces, dots and brackets, two-digit years and "8 giờ sáng".
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.textfold import fold

# --- phone numbers --------------------------------------------------------------------------

_PHONE_PUNCTUATION = re.compile(r"[\s.\-()/]")
_PHONE_DIGITS = re.compile(r"^\+?[0-9]+$")


def phone(text: str) -> str | None:
    """A Vietnamese number in its national form ("0912345678", "02053820000"), a foreign
    one as "+<digits>", or None.

    Accepts spaces, dots, dashes, brackets and the +84 / 84 prefix: "(0205) 3820 000",
    "+84 912.345.678". Mobiles have 10 digits, landlines 11 (02xx + 7 digits).
    """
    digits = _PHONE_PUNCTUATION.sub("", text)
    if not _PHONE_DIGITS.match(digits):
        return None
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif digits.startswith("+"):
        return digits if 8 <= len(digits) - 1 <= 15 else None
    if digits.startswith("00"):
        return None
    if digits.startswith("0") and len(digits) in (10, 11):
        return digits
    return None


# --- days and times -------------------------------------------------------------------------

_DAY = re.compile(r"(?<!\d)(\d{1,4})[/.\-](\d{1,2})(?:[/.\-](\d{2,4}))?(?!\d)")
_CLOCK = re.compile(
    r"(?<!\d)(\d{1,2})\s*(?::|h|g|gio)\s*(\d{2})?(?:\s*(?:phut|p))?"
    r"(?:\s*(sang|trua|chieu|toi|dem|am|pm))?(?!\w)"
)
_AFTERNOON = {"chieu": 12, "toi": 12, "pm": 12}


def _year(text: str | None, today: date | None) -> int | None:
    """A typed year: "26" is 2026 (two-digit years are 20yy), none is this year."""
    if text is None:
        return today.year if today else None
    if len(text) == 2:
        return 2000 + int(text)
    return int(text) if len(text) == 4 else None


_NEAR_DAYS = {"hom nay": 0, "today": 0, "ngay mai": 1, "mai": 1, "tomorrow": 1,
              "ngay kia": 2, "ngay mot": 2}
_WEEKDAYS = {"hai": 0, "2": 0, "ba": 1, "3": 1, "tu": 2, "4": 2, "nam": 3, "5": 3,
             "sau": 4, "6": 4, "bay": 5, "7": 5}
_NEAR_DAY = re.compile(
    r"(?<!\w)(?:(hom nay|today|ngay mai|mai|tomorrow|ngay kia|ngay mot)"
    r"|(?:thu\s*|t)(hai|ba|tu|nam|sau|bay|[2-7])|(chu nhat|cn))"
    r"(?:\s+(tuan (?:sau|toi)|toi|nay))?(?!\w)"
)


def _near_day(folded: str, today: date) -> date | None:
    """ "hôm nay", "mai", "ngày kia", "thứ Hai", "thứ 6 tuần sau", "chủ nhật này" from today.

    A weekday is the nearest one from today on ("tới": after today); "tuần sau/tới" is that
    weekday of next week (weeks start on Monday, as in Vietnam)."""
    found = _NEAR_DAY.search(folded)
    if found is None:
        return None
    near, weekday_word, sunday, which = found.groups()
    if near is not None:
        return today + timedelta(days=_NEAR_DAYS[near])
    weekday = 6 if sunday else _WEEKDAYS[weekday_word]
    if which and which.startswith("tuan"):
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + weekday)
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and which == "toi":
        ahead = 7
    return today + timedelta(days=ahead)


def day(text: str, today: date | None = None, upcoming: bool = False) -> date | None:
    """A typed calendar day, or None when it cannot be read.

    "30/11/2026", "30-11-26", "30.11.2026", "2026-11-30", "ngày 30/11" (this year, known
    from `today`; with `upcoming`, a day already past this year means next year); with
    `today`, also words: "hôm nay", "mai", "ngày kia", "thứ Hai", "thứ 6 tuần sau", "CN".
    """
    folded = fold(text)
    found = _DAY.search(folded)
    if found is None:
        return _near_day(folded, today) if today is not None else None
    first, second, third = found.groups()
    if len(first) == 4:  # ISO: year-month-day
        if third is None:
            return None
        year, month, dom = int(first), int(second), int(third)
    elif len(first) > 2:
        return None
    else:
        year_or_none = _year(third, today)
        if year_or_none is None:
            return None
        year, month, dom = year_or_none, int(second), int(first)
    try:
        found_day = date(year, month, dom)
    except ValueError:
        return None
    if upcoming and third is None and today is not None and found_day < today:
        try:
            found_day = found_day.replace(year=found_day.year + 1)
        except ValueError:  # 29/2 in a year that has none
            return None
    return found_day


_PART_BEFORE = re.compile(  # "chiều 2h", "tối mai 7h", "chiều CN lúc 2 giờ"
    r"(?<!\w)(sang|trua|chieu|toi|dem)"
    r"(?:\s+(?:hom nay|ngay mai|ngay kia|nay|mai|thu\s*(?:hai|ba|tu|nam|sau|bay|[2-7])"
    r"|t[2-7]|chu nhat|cn))*\s*(?:luc\s*)?$"
)


def _part_before(folded_before: str, text: str) -> str | None:
    """The part of the day typed just before the hour ("chiều 2 giờ"). Without accents
    "toi" is "tối" (evening) or "tới" (next: "thứ 2 tới 7h"), so it counts only as "tối"."""
    found = _PART_BEFORE.search(folded_before)
    if found is None:
        return None
    if found.group(1) == "toi" and "tối" not in text.casefold():
        return None
    return found.group(1)


def clock_time(text: str) -> time | None:
    """A typed time of day: "08:00", "8h", "8h30", "14g", "8 giờ sáng", "2 giờ chiều",
    "chiều 2h"."""
    folded = fold(text)
    folded = _DAY.sub(" ", folded)  # "30/11 8h": the day is not the time
    found = _CLOCK.search(folded)
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    part = found.group(3) or _part_before(folded[:found.start()], text)
    if part in _AFTERNOON and hour < 12:
        hour += _AFTERNOON[part]
    if part in ("dem", "am") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def moment(text: str, timezone: str, today: date | None = None,
           upcoming: bool = True) -> datetime | None:
    """A typed day and time ("30/11/26 8h", "8 giờ sáng 30/11", "2026-11-30 08:00") in the
    commune's time zone, or None when either part cannot be read."""
    found_day = day(text, today, upcoming=upcoming)
    found_time = clock_time(text)
    if found_day is None or found_time is None:
        return None
    return datetime.combine(found_day, found_time, tzinfo=ZoneInfo(timezone))


# --- ratings --------------------------------------------------------------------------------

RATING_WORDS = {  # typed words (folded) for each rating, beside the number
    5: ("rat hai long", "tuyet voi", "rat tot"),
    4: ("hai long", "tot"),
    3: ("binh thuong", "tam duoc", "tam"),
    2: ("chua hai long", "chua tot"),
    1: ("khong hai long", "te", "kem"),
}
_STARS = re.compile(r"^(?:danh gia\s*)?([1-5])\s*(?:sao|diem|\*|⭐|/\s*5)?$")


def rating(text: str) -> int | None:
    """A typed rating from 1 to 5: "5", "5 sao", "4/5", "5 ⭐", "⭐⭐⭐", "rat hai long"."""
    folded = fold(text).strip(" .!")
    if folded and set(folded) <= {"⭐", " "}:
        count = folded.count("⭐")
        return count if 1 <= count <= 5 else None
    if found := _STARS.match(folded):
        return int(found.group(1))
    for stars, words in RATING_WORDS.items():
        if folded in words:
            return stars
    return None


def example_day(today: date, days_ahead: int = 14) -> str:
    """A day to show in "type it like …" prompts, `days_ahead` from today: "16/12/2026"."""
    return (today + timedelta(days=days_ahead)).strftime("%d/%m/%Y")


def example_short_day(today: date, days_ahead: int = 14) -> str:
    """The same day without its year, as people also type it: "16/12"."""
    return (today + timedelta(days=days_ahead)).strftime("%d/%m")


# --- numbers ---------------------------------------------------------------------------------


def ascii_int(text: str, digits: int = 9) -> int | None:
    """The number written in `text` with ASCII digits only (at most `digits` of them), else
    None. `str.isdigit` accepts "²", which `int` refuses, and a 20-digit id overflows the
    database's integers."""
    if 0 < len(text) <= digits and text.isascii() and text.isdigit():
        return int(text)
    return None
