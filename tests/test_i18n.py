"""Catalogs: complete Vietnamese, placeholders intact, template in step with the code."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from bot.i18n import format_date, format_datetime, translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"  # the .po catalogs

PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _catalog(locale: str):
    with open(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def test_every_vietnamese_message_is_translated_with_the_same_placeholders():
    messages = [m for m in _catalog("vi") if m.id]
    assert len(messages) > 50
    for message in messages:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        for string in strings:  # Vietnamese has one plural form
            assert sorted(PLACEHOLDER.findall(ids[-1])) == sorted(
                PLACEHOLDER.findall(string)), message.id


def test_the_template_lists_exactly_the_strings_in_the_code(tmp_path: Path):
    root = LOCALES_DIR.parent
    fresh = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F",
                    str(root / "babel.cfg"), "-o", str(fresh), "--no-location", str(root)],
                   check=True, cwd=root)
    with open(fresh, "rb") as f:
        in_code = {m.id for m in read_po(f) if m.id}
    with open(LOCALES_DIR / "messages.pot", "rb") as f:
        in_template = {m.id for m in read_po(f) if m.id}
    assert in_code == in_template, "run `make catalogs` and translate the new strings"
    assert in_code == {m.id for m in _catalog("vi") if m.id}


def test_the_compiled_catalogs_are_used():
    assert translations("vi").gettext("I agree") == "Đồng ý"
    assert translations("en").gettext("I agree") == "I agree"
    assert translations("fr").gettext("I agree") == "I agree"


def test_dates_are_written_the_vietnamese_way_in_local_time():
    moment = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 00:30 on 1/12 in Hà Nội
    assert format_datetime(moment, "vi", "Asia/Ho_Chi_Minh") == "00:30, thứ Ba, 01/12/2026"
    assert format_date(moment, "vi", "Asia/Ho_Chi_Minh") == "01/12/2026"
    sunday = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    assert format_datetime(sunday, "vi", "Asia/Ho_Chi_Minh") == "08:00, Chủ nhật, 29/11/2026"
    assert format_datetime(moment, "en", "Asia/Ho_Chi_Minh") == "Tuesday 1 December 2026, 00:30"
