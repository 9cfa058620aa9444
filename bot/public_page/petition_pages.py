"""The "Phản ánh, kiến nghị" section: figures of this month and this year, charts, the open
public feedback, and one petition's public page (bot.services.public_record.is_public)."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal, format_percent

from bot.i18n import format_date
from bot.public_page import charts
from bot.public_page.layout import HOME, LOOKUP, PETITIONS, Frame, page, table, tag
from bot.services.petition_statuses import STATUS_LABELS
from bot.services.petitions import Settings
from bot.services.public_record import PetitionRecord, PublicPetition
from bot.services.public_text import masked
from bot.services.yearly_report import Figures


def _number(frame: Frame, value: float | None) -> str:
    """A number in the page's language; "—" when there is nothing to count."""
    return "—" if value is None else format_decimal(value, locale=frame.locale)


def _cell(key: str, value: float | None, text: str) -> str:
    """A figure's cell, its raw value kept in data-value for machines and tests."""
    raw = "" if value is None else str(value)
    return (f'<td class="n" data-figure="{key}" data-value="{escape(raw)}">'
            f"{escape(text)}</td>")


def _rows(frame: Frame, month: Figures, year: Figures) -> list[list[str]]:
    """The figure table's lines: one per measure, this month then this year."""
    _ = frame._
    lines = []
    for key, label, value in (
        ("received", _("Received"), lambda f: f.petitions),
        ("answered", _("Answered"), lambda f: f.answered),
        ("on_time", _("Answered on time"), lambda f: f.answered_in_time),
        ("median_days", _("Median days to answer"), lambda f: f.median_days),
        ("p90_days", _("Days within which 9 in 10 were answered"), lambda f: f.p90_days),
        ("rating", _("Average rating (1 to 5 stars)"), lambda f: f.average_rating),
    ):
        cells = [escape(label)]
        for period, figures in (("month", month), ("year", year)):
            number = value(figures)
            text = _number(frame, number)
            if key == "on_time" and figures.in_time_share is not None:
                share = format_percent(figures.in_time_share, locale=frame.locale)
                text = f"{text} ({share})"
            cells.append(_cell(f"{period}-{key}", number, text))
        lines.append(cells)
    return lines


def record(frame: Frame, data: PetitionRecord, settings: Settings) -> str:
    """The section's page."""
    _ = frame._
    year = data.year
    as_of = format_date(frame.now, frame.locale, frame.timezone)
    month_head = _("This month ({month}/{year})").format(month=data.month_start.month,
                                                         year=data.month_start.year)
    year_head = _("This year ({year}, to {day})").format(year=year.year, day=as_of)
    body = [
        tag("p", _("Feedback, recommendations, complaints and denunciations that residents "
                   "sent to the People’s Committee through the chatbot, and how they were "
                   "answered. Complaints and denunciations are only counted: their content is "
                   "never published.")),
        frame.updated(),
        table(["", escape(month_head), escape(year_head)], _rows(frame, data.month, year),
              "figures"),
        tag("p", _("On time: answered by the due date the law sets for each kind of "
                   "petition. Days count from receiving to answering."), "period"),
        tag("h2", _("Received by month, {year}").format(year=year.year)),
        charts.columns(_("Received by month, {year}").format(year=year.year),
                       [(str(m), year.petitions_by_month.get(m, 0)) for m in range(1, 13)],
                       "by-month"),
        tag("h2", _("By field, {year}").format(year=year.year)),
        charts.bars(_("By field, {year}").format(year=year.year),
                    [(settings.field_label(code, frame.locale), count) for code, count
                     in year.petitions_by_field.most_common()], "by-field")
        or tag("p", _("Nothing received yet this year.")),
        tag("h2", _("By hamlet, {year}").format(year=year.year)),
        charts.bars(_("By hamlet, {year}").format(year=year.year),
                    [(name if name != "—" else _("Not given"), count) for name, count
                     in year.petitions_by_hamlet.most_common()], "by-hamlet")
        or tag("p", _("Nothing received yet this year.")),
        _open_feedback(frame, data, settings),
        _lookup_form(frame),
    ]
    return page(frame, _("Feedback and petitions"), "".join(body), HOME)


def _open_feedback(frame: Frame, data: PetitionRecord, settings: Settings) -> str:
    """The open feedback by field: code, hamlet, status and due date; nothing else."""
    _ = frame._
    parts = [tag("h2", _("Open feedback, by field")),
             tag("p", _("Still open on {day}. Feedback sent anonymously is not listed.").format(
                 day=format_date(frame.now, frame.locale, frame.timezone)), "period")]
    if not data.open_feedback:
        parts.append(tag("p", _("No feedback is waiting for an answer.")))
    field, today = None, frame.now.astimezone(ZoneInfo(frame.timezone)).date()
    rows: list[list[str]] = []
    header = [escape(_("Code")), escape(_("Hamlet")), escape(_("Status")),
              escape(_("Answer due"))]
    for petition in data.open_feedback:
        if petition.field != field:
            if rows:
                parts.append(table(header, rows, "open-feedback"))
            field, rows = petition.field, []
            parts.append(tag("h3", settings.field_label(field, frame.locale)))
        code = escape(petition.code or "")
        rows.append([
            f'<a href="{PETITIONS}/{code}">{code}</a>',
            escape(data.hamlet_names.get(petition.hamlet_id, _("Not given"))),
            escape(_(STATUS_LABELS.get(petition.status, petition.status))),
            escape(format_date(petition.answer_due, frame.locale, frame.timezone)
                   + (" · " + _("overdue") if petition.answer_due < today else "")),
        ])
    if rows:
        parts.append(table(header, rows, "open-feedback"))
    return "".join(parts)


def _lookup_form(frame: Frame) -> str:
    """A form to open a petition's public page by its code (works without script)."""
    _ = frame._
    code, look = escape(_("Tracking code")), escape(_("Look up"))
    return (tag("h2", _("Look up feedback by its code"))
            + f'<form method="get" action="{LOOKUP}"><input type="hidden" name="lang" '
            f'value="{frame.locale}"><input type="text" name="ma" required '
            f'aria-label="{code}" placeholder="PA-2026-000001">'
            f'<button type="submit">{look}</button></form>')


def petition(frame: Frame, found: PublicPetition, settings: Settings) -> str:
    """One public petition: field, hamlet, dates, status history, the published answer."""
    _ = frame._
    item, events, hamlet = found.petition, found.events, found.hamlet
    when = lambda moment: format_date(moment, frame.locale, frame.timezone)  # noqa: E731
    facts = [
        (_("Field"), settings.field_label(item.field, frame.locale)),
        (_("Hamlet"), hamlet or _("Not given")),
        (_("Received on"), when(item.received_at)),
        (_("Answer due"), when(item.answer_due)),
        (_("Status"), _(STATUS_LABELS.get(item.status, item.status))),
    ]
    body = [frame.updated(), '<div class="card"><dl>']
    body += [f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts]
    body.append("</dl></div>")
    body.append(tag("h2", _("Status history")))
    body.append(table([escape(_("Date")), escape(_("Status"))],
                      [[escape(when(e.at)), escape(_(STATUS_LABELS.get(e.status or "", "")))]
                       for e in events], "history"))
    body.append(tag("h2", _("Published answer")))
    if item.answer and item.answered_at:
        answered = _("Answered on {day}").format(day=when(item.answered_at))
        body.append(tag("p", answered, "period")
                    + f'<div class="card answer">{escape(masked(item.answer))}</div>')
    else:
        body.append(tag("p", _("Not answered yet.")))
    return page(frame, _("Feedback {code}").format(code=item.code), "".join(body), HOME)


def not_public(frame: Frame, code: str) -> str:
    """The page for a code that is unknown or not public (the same page for both)."""
    _ = frame._
    text = _("No public feedback has the code {code}. Complaints, denunciations and feedback "
             "sent anonymously are never published; the person who sent them can follow them "
             "in the chatbot.").format(code=code[:30])
    return page(frame, _("Not found"), f"<p>{escape(text)}</p>{_lookup_form(frame)}", HOME)
