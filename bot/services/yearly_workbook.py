"""The yearly review's workbook: a summary sheet with native Excel charts (XlsxWriter), then
one sheet per topic, from the figures of bot.services.yearly_report.
"""

from __future__ import annotations

from pathlib import Path

from bot.i18n import N_, format_date, translations
from bot.services import disclosures as disclosure_service
from bot.services import petition_statuses
from bot.services.exports import _atomic
from bot.services.yearly_report import Figures

SUMMARY = N_("Summary")
TITLE = N_("Grassroots democracy: the chatbot's figures for {year}")
AS_OF = N_("As of {date} (the year is not over)")


def write_xlsx(figures: Figures, path: Path, *, lang: str = "vi") -> None:
    """Write the workbook (atomically): a summary with charts, then one sheet per topic."""
    import xlsxwriter

    _ = translations(lang).gettext
    with _atomic(path) as temporary:
        book = xlsxwriter.Workbook(str(temporary))
        styles = {
            "title": book.add_format({"bold": True, "font_size": 14}),
            "head": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
            "percent": book.add_format({"num_format": "0.0%"}),
        }
        _summary(book, figures, _, styles, lang)
        _disclosure_sheet(book, figures, _, styles, lang)
        _petition_sheet(book, figures, _, styles, lang)
        _sessions_sheet(book, figures, _, styles)
        _usage_sheet(book, figures, _, styles)
        book.close()


def _table(sheet, row: int, headers: list[str], rows: list[list], styles: dict) -> int:
    sheet.write_row(row, 0, headers, styles["head"])
    for offset, values in enumerate(rows, 1):
        sheet.write_row(row + offset, 0, values)
    return row + len(rows) + 2


def as_of_line(figures: Figures, lang: str) -> str | None:
    """"As of 02/12/2026 …" for a year not over yet, else None."""
    if figures.as_of is None:
        return None
    day = format_date(figures.as_of, lang, "UTC")
    return translations(lang).gettext(AS_OF).format(date=day)


def _summary(book, figures: Figures, _, styles: dict, lang: str) -> None:
    sheet = book.add_worksheet(_(SUMMARY)[:31])
    sheet.set_column(0, 0, 52)
    sheet.set_column(1, 4, 14)
    sheet.write(0, 0, _(TITLE).format(year=figures.year), styles["title"])
    if as_of := as_of_line(figures, lang):
        sheet.write(1, 0, as_of)
    lines = [
        (_("Disclosures posted"), figures.disclosures),
        (_("Disclosed within 5 working days of the decision"), figures.on_time_share),
        (_("Consultations"), figures.consultations),
        (_("Comments from residents"), figures.comments),
        (_("Petitions received"), figures.petitions),
        (_("Petitions answered"), figures.answered),
        (_("Answered within the deadline"), figures.in_time_share),
        (_("Median days to answer"), figures.median_days),
        (_("90th percentile of days to answer"), figures.p90_days),
        (_("Average rating of answers (1-5)"), figures.average_rating),
        (_("Dialogue sessions held (at least one a year)"), figures.sessions_held),
        (_("Registrations for dialogue sessions"), figures.registrations),
        (_("Attended (ticket checked at the door)"), figures.attended),
        (_("Questions sent in advance / answered in a published outcome"),
         f"{figures.questions} / {figures.questions_answered}"),
        (_("Broadcasts sent to hamlets"), figures.broadcasts),
        (_("Broadcast messages delivered"), figures.delivery_rate),
        (_("Messages the channel could not take (Zalo OA outside its 7-day window)"),
         figures.undeliverable),
        (_("Residents who used the chatbot"), sum(figures.active_by_channel.values())),
    ]
    row = 2
    for label, value in lines:
        sheet.write(row, 0, label)
        if value is None:
            sheet.write(row, 1, "—")
        elif isinstance(value, float) and label in (lines[1][0], lines[6][0], lines[15][0]):
            sheet.write_number(row, 1, value, styles["percent"])
        else:
            sheet.write(row, 1, value)
        row += 1

    # Month by month, the data the line chart draws.
    month_row = row + 1
    sheet.write_row(month_row, 0, [_("Month"), _("Petitions"), _("Disclosures"),
                                   _("Active residents")], styles["head"])
    for m in range(1, 13):
        sheet.write_row(month_row + m, 0, [
            _("Month {number}").format(number=m), figures.petitions_by_month.get(m, 0),
            figures.disclosures_by_month.get(m, 0), figures.active_by_month.get(m, 0)])
    name = sheet.get_name()
    line = book.add_chart({"type": "line"})
    for column in (1, 2, 3):
        line.add_series({
            "name": [name, month_row, column],
            "categories": [name, month_row + 1, 0, month_row + 12, 0],
            "values": [name, month_row + 1, column, month_row + 12, column],
            "marker": {"type": "circle"},
        })
    line.set_title({"name": _("Month by month")})
    line.set_size({"width": 720, "height": 300})
    sheet.insert_chart(1, 3, line)

    hamlet_row = month_row + 15
    sheet.write_row(hamlet_row, 0, [_("Hamlet"), _("Petitions"), _("Active residents")],
                    styles["head"])
    for offset, hamlet in enumerate(figures.hamlets, 1):
        counts = [figures.petitions_by_hamlet.get(hamlet, 0),
                  figures.active_by_hamlet.get(hamlet, 0)]
        sheet.write_row(hamlet_row + offset, 0, [hamlet, *counts])
    last = hamlet_row + max(len(figures.hamlets), 1)
    bars = book.add_chart({"type": "bar"})
    for column in (1, 2):
        bars.add_series({
            "name": [name, hamlet_row, column],
            "categories": [name, hamlet_row + 1, 0, last, 0],
            "values": [name, hamlet_row + 1, column, last, column],
        })
    bars.set_title({"name": _("By hamlet")})
    bars.set_size({"width": 720, "height": 360})
    sheet.insert_chart(17, 3, bars)


def _disclosure_sheet(book, figures: Figures, _, styles: dict, lang: str) -> None:
    sheet = book.add_worksheet(_("Disclosures")[:31])
    sheet.set_column(0, 0, 44)
    rows = [[f"{n}. {disclosure_service.category_label(n, lang)}",
             figures.disclosures_by_category.get(n, 0)] for n in disclosure_service.CATEGORIES]
    end = _table(sheet, 0, [_("Topic (Art. 11)"), _("Disclosures posted")], rows, styles)
    _table(sheet, end, [_("Consultations"), _("Comments from residents"),
                        _("Responses published")],
           [[figures.consultations, figures.comments, figures.responses]], styles)
    chart = book.add_chart({"type": "bar"})
    chart.add_series({"name": _("Disclosures posted"),
                      "categories": [sheet.get_name(), 1, 0, 14, 0],
                      "values": [sheet.get_name(), 1, 1, 14, 1]})
    chart.set_legend({"none": True})
    sheet.insert_chart(0, 3, chart)


def _petition_sheet(book, figures: Figures, _, styles: dict, lang: str) -> None:
    sheet = book.add_worksheet(_("Petitions")[:31])
    sheet.set_column(0, 0, 40)
    row = _table(sheet, 0, [_("Type"), _("Petitions")],
                 [[_(petition_statuses.KIND_LABELS[k]), figures.petitions_by_kind.get(k, 0)]
                  for k in petition_statuses.KIND_LABELS], styles)
    row = _table(sheet, row, [_("Field"), _("Petitions")],
                 [[_(figures.field_labels.get(code, code)), count]
                  for code, count in figures.petitions_by_field.most_common()], styles)
    row = _table(sheet, row, [_("Hamlet"), _("Petitions")],
                 [[hamlet, count] for hamlet, count in figures.petitions_by_hamlet.most_common()],
                 styles)
    row = _table(sheet, row, [_("Status"), _("Petitions")],
                 [[_(petition_statuses.STATUS_LABELS[s]), count]
                  for s, count in figures.petitions_by_status.most_common()], styles)
    _table(sheet, row, [_("Rating"), _("Petitions")],
           [[stars, figures.ratings.get(stars, 0)] for stars in range(1, 6)], styles)


def _sessions_sheet(book, figures: Figures, _, styles: dict) -> None:
    sheet = book.add_worksheet(_("Dialogue and notices")[:31])
    sheet.set_column(0, 0, 52)
    rows = [
        [_("Dialogue sessions held (at least one a year)"), figures.sessions_held],
        [_("Dialogue sessions cancelled"), figures.sessions_cancelled],
        [_("Registrations for dialogue sessions"), figures.registrations],
        [_("Attended (ticket checked at the door)"), figures.attended],
        [_("Questions sent in advance"), figures.questions],
        [_("Questions answered in a published outcome"), figures.questions_answered],
    ]
    row = _table(sheet, 0, [_("Dialogue sessions"), _("Number")], rows, styles)
    deliveries = [[_(DELIVERY_WORDS.get(status, status)), count]
                  for status, count in sorted(figures.deliveries.items())]
    row = _table(sheet, row, [_("Broadcast messages ({count} broadcasts)").format(
        count=figures.broadcasts), _("Number")], deliveries, styles)
    _table(sheet, row, [_("Messages the channel could not take (Zalo OA outside its 7-day "
                          "window)"), _("Number")], [["", figures.undeliverable]], styles)


DELIVERY_WORDS = {"sent": N_("delivered"), "failed": N_("failed"), "blocked": N_("blocked"),
                  "pending": N_("waiting"), "sending": N_("waiting"),
                  "cancelled": N_("cancelled")}


def _usage_sheet(book, figures: Figures, _, styles: dict) -> None:
    sheet = book.add_worksheet(_("Residents")[:31])
    sheet.set_column(0, 0, 30)
    row = _table(sheet, 0, [_("Hamlet"), _("Active residents")],
                 [[h, c] for h, c in figures.active_by_hamlet.most_common()], styles)
    _table(sheet, row, [_("Channel"), _("Active residents")],
           [[c, n] for c, n in figures.active_by_channel.most_common()], styles)
