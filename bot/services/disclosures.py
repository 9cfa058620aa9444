"""Public disclosures ("Dân biết"): publish, change, consult, notify, list by quarter.

The rules come from the Law on Implementing Grassroots Democracy (Arts. 11–14, 25, 28;
../shared/DOMAIN.md §2 and §3.3): 14 categories; disclosure within 5 working days of
the decision; posting for at least 30 days, permanently for items 4 and 13; changed
information is disclosed again; consultations last at least 20 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, format_date, translations
from bot.messages import Button, Reply
from bot.services import outbox
from bot.textfold import nfc
from bot.workdays import NATIONAL, Calendar
from storage.models import Disclosure, User
from storage.repositories import (
    Communes,
    DisclosureComments,
    Disclosures,
    InteractionLogs,
    Subscriptions,
)

# Art. 11 items, with the short labels residents see.
CATEGORIES: dict[int, str] = {
    1: N_("Socio-economic plan"),
    2: N_("Budget and finance"),
    3: N_("Projects, land and planning"),
    4: N_("Democracy regulation, staff duties"),
    5: N_("Funds and contributions"),
    6: N_("Public assets"),
    7: N_("Social support"),
    8: N_("Disaster relief, donations"),
    9: N_("Military service"),
    10: N_("Inspections and discipline"),
    11: N_("Consultations and results"),
    12: N_("Fees and charges"),
    13: N_("Administrative procedures"),
    14: N_("Other information"),
}
PERMANENT_CATEGORIES = frozenset({4, 13})
MIN_POSTING_DAYS = 30
MIN_CONSULTATION_DAYS = 20
DISCLOSE_WITHIN_WORKING_DAYS = 5
MAX_TITLE = 300
MAX_BODY = 20_000
MAX_FILE_BYTES = 20 * 1024 * 1024
# File signatures of the document types we accept: PDF, OOXML/ODF (zip), old Office (OLE).
DOCUMENT_TYPES = {
    ".pdf": (b"%PDF",),
    ".docx": (b"PK\x03\x04",), ".xlsx": (b"PK\x03\x04",), ".pptx": (b"PK\x03\x04",),
    ".odt": (b"PK\x03\x04",), ".ods": (b"PK\x03\x04",),
    ".doc": (b"\xd0\xcf\x11\xe0",), ".xls": (b"\xd0\xcf\x11\xe0",),
}


class DisclosureError(ValueError):
    """A disclosure or comment that cannot be accepted; the message says why (English)."""


def topic(category: int) -> str:
    """The subscription topic of a category."""
    return f"disclosure:{category}"


def category_label(category: int, locale: str) -> str:
    """The short label of a category in a language."""
    return translations(locale).gettext(CATEGORIES.get(category, CATEGORIES[14]))


@dataclass
class Draft:
    """What staff give to publish a disclosure. Dates are local calendar days."""

    category: int
    title: str
    body: str
    decided_on: date | None = None
    posted_from: date | None = None  # default: today
    posted_until: date | None = None  # default: +30 days, or permanent
    permanent: bool | None = None  # default: by category
    consult_until: date | None = None
    attachment: dict[str, Any] | None = None


def local_start(day: date, timezone: str) -> datetime:
    """Midnight at the start of a local day, as an aware datetime."""
    return datetime.combine(day, time.min, ZoneInfo(timezone))


def local_end(day: date, timezone: str) -> datetime:
    """The last moment of a local day (23:59:59), as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(timezone))


def local_day(moment: datetime, timezone: str) -> date:
    """The local calendar day of a moment."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def check(draft: Draft) -> None:
    """Refuse what cannot be published at all."""
    if draft.category not in CATEGORIES:
        raise DisclosureError("category must be a number from 1 to 14 (Art. 11)")
    if not draft.title.strip():
        raise DisclosureError("the title is empty")
    if len(draft.title) > MAX_TITLE:
        raise DisclosureError(f"the title is longer than {MAX_TITLE} characters")
    if len(draft.body) > MAX_BODY:
        raise DisclosureError(f"the text is longer than {MAX_BODY} characters")
    start = draft.posted_from
    if start and draft.posted_until and draft.posted_until < start:
        raise DisclosureError("the posting period ends before it starts")
    if start and draft.consult_until and draft.consult_until < start:
        raise DisclosureError("the consultation ends before the disclosure is posted")


def warnings(draft: Draft, today: date, calendar: Calendar = NATIONAL) -> list[str]:
    """What the law asks and this draft does not do (published anyway; staff are told).

    Working days are the commune's (`Calendar.of_commune`), the national ones by default.
    """
    found = []
    start = draft.posted_from or today
    permanent = _is_permanent(draft)
    if not permanent and draft.posted_until and (draft.posted_until - start).days < (
        MIN_POSTING_DAYS
    ):
        found.append(N_("The posting period is shorter than the 30 days the law requires "
                        "(Art. 13)."))
    if draft.consult_until and (draft.consult_until - start).days < MIN_CONSULTATION_DAYS:
        found.append(N_("The consultation is shorter than the 20 days the law requires "
                        "(Art. 28)."))
    if draft.decided_on and start > calendar.add_working_days(
        draft.decided_on, DISCLOSE_WITHIN_WORKING_DAYS
    ):
        found.append(N_("This is disclosed later than 5 working days after the decision "
                        "(Art. 12)."))
    return found


def _is_permanent(draft: Draft) -> bool:
    if draft.permanent is not None:
        return draft.permanent
    return draft.category in PERMANENT_CATEGORIES and draft.posted_until is None


def check_document(path: Path) -> None:
    """Refuse a file that is too big or not a document we can serve."""
    if not path.is_file():
        raise DisclosureError(f"no such file: {path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DisclosureError(
            f"the file is {size / 1048576:.1f} MB; the limit is {MAX_FILE_BYTES // 1048576} MB"
        )
    signatures = DOCUMENT_TYPES.get(path.suffix.lower())
    if signatures is None:
        raise DisclosureError(
            "only documents can be attached: " + ", ".join(sorted(DOCUMENT_TYPES))
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    if not head.startswith(signatures):
        raise DisclosureError(f"the file's content is not a {path.suffix.lower()} document")


def store_document(path: Path, data_dir: Path, disclosure_key: str) -> dict[str, Any]:
    """Copy an accepted document under the data folder; returns the attachment reference."""
    check_document(path)
    folder = data_dir / "files" / "disclosures" / disclosure_key
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    target.write_bytes(path.read_bytes())
    # Channels resolve a relative reference against the data folder (it may move).
    return {"kind": "document", "ref": str(target.relative_to(data_dir)), "name": path.name,
            "mime_type": None, "size": target.stat().st_size}


async def publish(session: AsyncSession, draft: Draft, *, actor: str, now: datetime,
                  timezone: str) -> Disclosure:
    """Store a new disclosure and queue one notice per subscriber of its category.

    A disclosure posted in the future is announced when its posting starts.
    """
    draft.title, draft.body = nfc(draft.title.strip()), nfc(draft.body.strip())
    check(draft)
    today = local_day(now, timezone)
    start_day = draft.posted_from or today
    posted_from = now if start_day == today else local_start(start_day, timezone)
    disclosure = Disclosure(
        category=draft.category, title=draft.title, body=draft.body,
        attachment=draft.attachment, decided_on=draft.decided_on, posted_from=posted_from,
        posted_until=_posted_until(draft, start_day, timezone),
        consult_until=local_end(draft.consult_until, timezone) if draft.consult_until else None,
        created_by=actor,
    )
    await Disclosures(session).save(disclosure)
    InteractionLogs(session).admin("disclosure_publish",
                                   f"#{disclosure.id} cat {disclosure.category}", actor, now=now)
    await notify_subscribers(session, disclosure, timezone=timezone, changed=False)
    return disclosure


def _posted_until(draft: Draft, start_day: date, timezone: str) -> datetime | None:
    if _is_permanent(draft):
        return None
    until = draft.posted_until or start_day + timedelta(days=MIN_POSTING_DAYS)
    return local_end(until, timezone)


async def change(session: AsyncSession, disclosure: Disclosure, *, actor: str,
                 timezone: str, title: str | None = None, body: str | None = None,
                 attachment: dict[str, Any] | None = None,
                 posted_until: date | None = None, permanent: bool | None = None,
                 consult_until: date | None = None) -> Disclosure:
    """Change a disclosure: the old version is kept, subscribers hear about the change."""
    repo = Disclosures(session)
    await repo.keep_revision(disclosure, actor)
    if title is not None:
        disclosure.title = nfc(title.strip())
    if body is not None:
        disclosure.body = nfc(body.strip())
    if attachment is not None:
        disclosure.attachment = attachment
    if permanent:
        disclosure.posted_until = None
    elif posted_until is not None:
        disclosure.posted_until = local_end(posted_until, timezone)
    if consult_until is not None:
        disclosure.consult_until = local_end(consult_until, timezone)
    check(Draft(disclosure.category, disclosure.title, disclosure.body))
    disclosure.version += 1
    await repo.save(disclosure)
    InteractionLogs(session).admin("disclosure_change",
                                   f"#{disclosure.id} v{disclosure.version}", actor)
    await notify_subscribers(session, disclosure, timezone=timezone, changed=True)
    return disclosure


async def respond(session: AsyncSession, disclosure: Disclosure, text: str, *, actor: str,
                  now: datetime) -> int:
    """Publish the answer to a consultation; everyone who commented is told once.

    Returns how many people were notified.
    """
    if disclosure.consult_until is None:
        raise DisclosureError("this disclosure was not open for comments")
    if not text.strip():
        raise DisclosureError("the response is empty")
    disclosure.response, disclosure.response_at = nfc(text.strip()), now
    await Disclosures(session).save(disclosure)
    InteractionLogs(session).admin("disclosure_response", f"#{disclosure.id}", actor, now=now)
    notified = set()
    for comment in await DisclosureComments(session).of(disclosure.id):
        if comment.user_id is None or comment.user_id in notified:
            continue
        user = await session.get(User, comment.user_id)
        if user is None:
            continue
        _ = translations(user.locale).gettext
        text_out = _("The commune has published its response to the consultation you "
                     "commented on: “{title}”.").format(title=disclosure.title)
        await outbox.enqueue(
            session, outbox.Recipient(user.channel, user.external_id),
            Reply(text_out, (Button(_("View"), f"go:disclosure:{disclosure.id}"),)),
            dedup_key=f"disclosure:{disclosure.id}:response:{user.id}", kind="consultation",
            now=now,
        )
        notified.add(user.id)
    return len(notified)


async def notify_subscribers(session: AsyncSession, disclosure: Disclosure, *, timezone: str,
                             changed: bool) -> int:
    """Queue one notice per subscriber of the category (never twice for one version)."""
    count = 0
    for user in await Subscriptions(session).subscribers(topic(disclosure.category)):
        _ = translations(user.locale).gettext
        template = (_("Updated public information ({category}): {title}") if changed
                    else _("New public information ({category}): {title}"))
        text = template.format(category=category_label(disclosure.category, user.locale),
                               title=disclosure.title)
        text += "\n" + _("Posted on {day}.").format(
            day=format_date(disclosure.posted_from, user.locale, timezone))
        reply = Reply(text, (Button(_("View"), f"go:disclosure:{disclosure.id}"),))
        queued = await outbox.enqueue(
            session, outbox.Recipient(user.channel, user.external_id), reply,
            not_before=disclosure.posted_from, kind="disclosure",
            dedup_key=f"disclosure:{disclosure.id}:v{disclosure.version}:{user.id}",
        )
        count += queued is not None
    return count


@dataclass(frozen=True)
class QuarterRow:
    """One line of the quarterly list of what was disclosed (Art. 13)."""

    disclosure: Disclosure
    on_time: bool | None  # None when the decision date is unknown


def quarter_bounds(quarter: str, timezone: str) -> tuple[datetime, datetime]:
    """"2026Q3" -> the local start of July 1 and of October 1, 2026."""
    text = quarter.strip().upper()
    try:
        year, number = int(text[:4]), int(text[5:])
        if text[4] != "Q" or len(text) != 6 or not 1 <= number <= 4:
            raise ValueError
    except (ValueError, IndexError):
        raise DisclosureError(f"quarter must look like 2026Q3, not {quarter!r}") from None
    first = date(year, 3 * number - 2, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return local_start(first, timezone), local_start(after, timezone)


async def quarter_list(session: AsyncSession, quarter: str, timezone: str) -> list[QuarterRow]:
    """Everything first posted in a quarter, with whether it met the 5-working-day rule."""
    start, end = quarter_bounds(quarter, timezone)
    calendar = Calendar.of_commune(await Communes(session).current())
    rows = []
    for disclosure in await Disclosures(session).posted_between(start, end):
        on_time = None
        if disclosure.decided_on:
            deadline = calendar.add_working_days(disclosure.decided_on,
                                                 DISCLOSE_WITHIN_WORKING_DAYS)
            on_time = local_day(disclosure.posted_from, timezone) <= deadline
        rows.append(QuarterRow(disclosure, on_time))
    return rows
