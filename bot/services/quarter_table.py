"""The quarterly list of what was disclosed (Art. 13) as a table: for the CLI's CSV and the
public page (table and CSV download)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import format_date, translations
from bot.services.disclosures import QuarterRow, category_label


def table(rows: Sequence[QuarterRow], locale: str, timezone: str
          ) -> tuple[list[str], list[list[object]]]:
    """The header and the lines of the quarterly list in a language."""
    _ = translations(locale).gettext
    header = [_("No."), _("Topic (Art. 11)"), _("Title"), _("Decision date"),
              _("Posted on"), _("Posted until"), _("Form"), _("Within 5 working days")]
    lines: list[list[object]] = []
    for number, row in enumerate(rows, 1):
        item = row.disclosure
        lines.append([
            number, f"{item.category}. {category_label(item.category, locale)}",
            item.title,
            format_date(item.decided_on, locale, timezone) if item.decided_on else "",
            format_date(item.posted_from, locale, timezone),
            format_date(item.posted_until, locale, timezone) if item.posted_until
            else _("Permanently"),
            _("Chatbot of the commune"),
            {True: _("Yes"), False: _("No"), None: ""}[row.on_time],
        ])
    return header, lines
