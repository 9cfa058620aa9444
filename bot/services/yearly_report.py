"""The yearly review of grassroots democracy: figures from the records, and the workbook.

What the commune's review needs (../shared/context item 8, ../shared/DOMAIN.md): what was
disclosed and whether on time (5 working days after the decision), consultations and
comments, petitions by type, field, hamlet and status, the share answered within the legal
deadline, median and 90th-percentile time to answer, ratings, and who used the bot by
hamlet and channel; month by month. The workbook has native Excel charts (XlsxWriter) on a
summary sheet and one sheet per topic.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, translations
from bot.services import disclosures as disclosure_service
from bot.services import petition_statuses
from bot.services import petitions as petition_service
from bot.services.exports import _atomic, bounds
from storage.models import (
    Broadcast,
    DialogueSession,
    Disclosure,
    DisclosureComment,
    Hamlet,
    InteractionLog,
    OutboxMessage,
    Petition,
    SessionQuestion,
    SessionRegistration,
)
from storage.repositories import Communes


@dataclass
class Figures:
    """Everything the yearly workbook shows."""

    year: int
    hamlets: list[str] = field(default_factory=list)
    # month (1-12) -> counts
    petitions_by_month: Counter = field(default_factory=Counter)
    disclosures_by_month: Counter = field(default_factory=Counter)
    active_by_month: dict[int, int] = field(default_factory=dict)
    disclosures_by_category: Counter = field(default_factory=Counter)
    disclosures_with_decision: int = 0
    disclosures_on_time: int = 0
    consultations: int = 0
    comments: int = 0
    responses: int = 0
    petitions_by_kind: Counter = field(default_factory=Counter)
    petitions_by_field: Counter = field(default_factory=Counter)
    petitions_by_hamlet: Counter = field(default_factory=Counter)
    petitions_by_status: Counter = field(default_factory=Counter)
    answered: int = 0
    answered_in_time: int = 0
    days_to_answer: list[float] = field(default_factory=list)
    ratings: Counter = field(default_factory=Counter)
    sessions_held: int = 0
    sessions_cancelled: int = 0
    registrations: int = 0
    attended: int = 0
    questions: int = 0
    questions_answered: int = 0  # asked for a session whose outcome was published
    broadcasts: int = 0
    undeliverable: int = 0  # e.g. Zalo OA notices outside the 7-day messaging window
    deliveries: Counter = field(default_factory=Counter)  # outbox status -> count
    active_by_hamlet: Counter = field(default_factory=Counter)
    active_by_channel: Counter = field(default_factory=Counter)
    field_labels: dict[str, str] = field(default_factory=dict)

    @property
    def petitions(self) -> int:
        """Petitions received in the year."""
        return sum(self.petitions_by_kind.values())

    @property
    def disclosures(self) -> int:
        """Disclosures first posted in the year."""
        return sum(self.disclosures_by_category.values())

    @property
    def on_time_share(self) -> float | None:
        """Share of disclosures with a decision date posted within 5 working days."""
        return (self.disclosures_on_time / self.disclosures_with_decision
                if self.disclosures_with_decision else None)

    @property
    def in_time_share(self) -> float | None:
        """Share of answered petitions answered by their due date."""
        return self.answered_in_time / self.answered if self.answered else None

    @property
    def median_days(self) -> float | None:
        """Median days from receiving to answering."""
        return round(statistics.median(self.days_to_answer), 1) if self.days_to_answer else None

    @property
    def p90_days(self) -> float | None:
        """90th percentile of days from receiving to answering."""
        values = sorted(self.days_to_answer)
        if not values:
            return None
        if len(values) == 1:
            return round(values[0], 1)
        return round(statistics.quantiles(values, n=10, method="inclusive")[-1], 1)

    @property
    def delivery_rate(self) -> float | None:
        """Share of broadcast deliveries that reached the recipient (of those finished)."""
        finished = sum(self.deliveries.get(s, 0) for s in ("sent", "failed", "blocked"))
        return self.deliveries.get("sent", 0) / finished if finished else None

    @property
    def average_rating(self) -> float | None:
        """Mean of the ratings given."""
        total = sum(self.ratings.values())
        return round(sum(k * v for k, v in self.ratings.items()) / total, 2) if total else None


async def compute(session: AsyncSession, year: int, timezone: str) -> Figures:
    """Count everything for one calendar year (local time)."""
    zone = ZoneInfo(timezone)
    first, after = bounds(date(year, 1, 1), date(year, 12, 31), timezone)
    figures = Figures(year)
    commune = await Communes(session).current()
    settings = petition_service.Settings.of(commune)
    hamlets = {h.id: h for h in (await session.exec(select(Hamlet).order_by(Hamlet.position)))
               .all()}
    codes = {h.code: h.name for h in hamlets.values()}
    figures.hamlets = [h.name for h in hamlets.values() if h.active]
    figures.field_labels = {code: label for code, label in settings.fields}

    def month(moment: datetime) -> int:
        return moment.astimezone(zone).month

    for item in (await session.exec(select(Disclosure).where(
            col(Disclosure.posted_from) >= first, col(Disclosure.posted_from) < after))).all():
        figures.disclosures_by_category[item.category] += 1
        figures.disclosures_by_month[month(item.posted_from)] += 1
        if item.decided_on:
            figures.disclosures_with_decision += 1
            deadline = settings.calendar.add_working_days(
                item.decided_on, disclosure_service.DISCLOSE_WITHIN_WORKING_DAYS)
            figures.disclosures_on_time += item.posted_from.astimezone(zone).date() <= deadline
        if item.consult_until:
            figures.consultations += 1
            figures.responses += item.response is not None
    figures.comments = len((await session.exec(select(DisclosureComment.id).where(
        col(DisclosureComment.created_at) >= first, col(DisclosureComment.created_at) < after)
    )).all())

    for petition in (await session.exec(select(Petition).where(
            col(Petition.received_at) >= first, col(Petition.received_at) < after))).all():
        figures.petitions_by_kind[petition.kind] += 1
        figures.petitions_by_field[petition.field] += 1
        hamlet = hamlets.get(petition.hamlet_id)
        figures.petitions_by_hamlet[hamlet.name if hamlet else "—"] += 1
        figures.petitions_by_status[petition.status] += 1
        figures.petitions_by_month[month(petition.received_at)] += 1
        if petition.answered_at:
            figures.answered += 1
            figures.answered_in_time += (
                petition.answered_at.astimezone(zone).date() <= petition.answer_due)
            figures.days_to_answer.append(
                (petition.answered_at - petition.received_at).total_seconds() / 86400)
        if petition.rating:
            figures.ratings[petition.rating] += 1

    for item in (await session.exec(select(DialogueSession).where(
            col(DialogueSession.starts_at) >= first, col(DialogueSession.starts_at) < after))
    ).all():
        if item.status == "cancelled":
            figures.sessions_cancelled += 1
            continue
        figures.sessions_held += item.starts_at <= datetime.now(zone) or item.outcome is not None
        registrations = (await session.exec(select(SessionRegistration).where(
            SessionRegistration.session_id == item.id,
            SessionRegistration.status == "registered"))).all()
        figures.registrations += len(registrations)
        figures.attended += sum(r.checked_in_at is not None for r in registrations)
        asked = len((await session.exec(select(SessionQuestion.id).where(
            SessionQuestion.session_id == item.id, SessionQuestion.status == "active"))).all())
        figures.questions += asked
        figures.questions_answered += asked if item.outcome else 0

    figures.broadcasts = len((await session.exec(select(Broadcast.id).where(
        col(Broadcast.created_at) >= first, col(Broadcast.created_at) < after))).all())
    figures.deliveries = Counter(dict((await session.exec(
        select(OutboxMessage.status, sa.func.count())
        .where(col(OutboxMessage.broadcast_id).is_not(None),
               col(OutboxMessage.created_at) >= first, col(OutboxMessage.created_at) < after)
        .group_by(OutboxMessage.status))).all()))

    figures.undeliverable = (await session.exec(
        select(sa.func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.status == "failed",
               col(OutboxMessage.last_error).like("not deliverable%"),
               col(OutboxMessage.created_at) >= first, col(OutboxMessage.created_at) < after)
    )).one()

    seen_month: dict[int, set[str]] = {}
    seen_hamlet: dict[str, set[str]] = {}
    seen_channel: dict[str, set[str]] = {}
    query = (select(InteractionLog.at, InteractionLog.user_ref, InteractionLog.hamlet_code,
                    InteractionLog.channel)
             .where(col(InteractionLog.at) >= first, col(InteractionLog.at) < after,
                    InteractionLog.direction == "in"))
    async for at, ref, hamlet_code, channel in await session.stream(query):
        if not ref:
            continue
        seen_month.setdefault(month(at), set()).add(ref)
        seen_hamlet.setdefault(codes.get(hamlet_code, "—"), set()).add(ref)
        seen_channel.setdefault(channel, set()).add(ref)
    figures.active_by_month = {m: len(refs) for m, refs in seen_month.items()}
    figures.active_by_hamlet = Counter({h: len(refs) for h, refs in seen_hamlet.items()})
    figures.active_by_channel = Counter({c: len(refs) for c, refs in seen_channel.items()})
    return figures


# --- the workbook ---------------------------------------------------------------------------

SUMMARY = N_("Summary")
TITLE = N_("Grassroots democracy: the chatbot's figures for {year}")


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
        _summary(book, figures, _, styles)
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


def _summary(book, figures: Figures, _, styles: dict) -> None:
    sheet = book.add_worksheet(_(SUMMARY)[:31])
    sheet.set_column(0, 0, 52)
    sheet.set_column(1, 4, 14)
    sheet.write(0, 0, _(TITLE).format(year=figures.year), styles["title"])
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
