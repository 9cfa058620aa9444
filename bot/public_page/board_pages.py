"""The "Thông tin công khai" and "Đối thoại" sections: the board by Art. 11 topic with its
files, the search (expired items too), open consultations, the quarterly list (Art. 13),
and the dialogue sessions against the legal minimum."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from bot.i18n import format_date
from bot.public_page.layout import BOARD, DIALOGUES, FILES, Frame, page, table, tag
from bot.services.disclosures import category_label
from bot.services.public_record import LEGAL_MINIMUM_SESSIONS, Board, Dialogues
from storage.models import Disclosure


def _item(frame: Frame, item: Disclosure, expired: bool = False) -> str:
    """One disclosure: title, posting period, deadline for comments and file; the text
    unfolds from the title."""
    _ = frame._
    day = lambda moment: format_date(moment, frame.locale, frame.timezone)  # noqa: E731
    period = (_("Posted from {start} to {end}").format(start=day(item.posted_from),
                                                  end=day(item.posted_until))
              if item.posted_until else
              _("Posted from {start}, permanently").format(start=day(item.posted_from)))
    if expired:
        period += " · " + _("no longer on the board")
    file = ""
    if item.attachment:
        name = item.attachment.get("name") or _("file")
        label = _("File: {name}").format(name=name)
        file = (f'<p><a href="{FILES}/{item.id}/{quote(name)}" download>'
                f"{escape(label)}</a></p>")
    consult = ""
    if item.consult_until:
        until_text = _("Comments until {day}").format(day=day(item.consult_until))
        consult = f"<p><strong>{escape(until_text)}</strong></p>"
    return (f'<div class="card"><details><summary>{escape(item.title)}</summary>'
            f"<p>{escape(item.body)}</p></details>"
            f'<p class="period">{escape(period)}</p>{consult}{file}</div>')


def board(frame: Frame, data: Board, query: str, quarter: str, quarters: list[str],
          rows: tuple[list[str], list[list[object]]]) -> str:
    """The section's page."""
    _ = frame._
    search, hint = escape(_("Search")), escape(_("Search all items, expired ones too"))
    body = [frame.updated(),
            f'<form method="get" action="{BOARD}" role="search">'
            f'<input type="hidden" name="lang" value="{frame.locale}">'
            f'<input type="search" name="q" value="{escape(query)}" '
            f'aria-label="{search}" placeholder="{hint}">'
            f'<button type="submit">{search}</button></form>']
    if query.strip():
        body.append(tag("h2", _("Found for “{query}”").format(query=query)))
        body += [_item(frame, d, expired=d.posted_until is not None
                       and d.posted_until < frame.now) for d in data.found]
        if not data.found:
            body.append(tag("p", _("Nothing found.")))
    body.append(tag("h2", _("Open consultations")))
    body += [_item(frame, d) for d in data.consultations]
    if not data.consultations:
        body.append(tag("p", _("No consultation is open now.")))
    body.append(tag("h2", _("On the board now, by topic (Art. 11)")))
    for category, items in data.by_category.items():
        body.append(f"<h3>{category}. {escape(category_label(category, frame.locale))} "
                    f"({len(items)})</h3>")
        body += [_item(frame, d) for d in items]
    if not data.by_category:
        body.append(tag("p", _("Nothing is on the board now.")))
    header, lines = rows
    body.append(tag("h2", _("What was disclosed in {quarter} (Art. 13)").format(quarter=quarter)))  # noqa: E501
    body.append("<p>" + " · ".join(
        f'<a href="{BOARD}?quy={q}&amp;lang={frame.locale}#quy"'
        f'{" aria-current=page" if q == quarter else ""}>{q}</a>' for q in quarters) + "</p>")
    body.append(f'<div id="quy">{table([escape(h) for h in header], [[escape(str(c)) for c in line] for line in lines], "quarter")}</div>'  # noqa: E501
                if lines else tag("p", _("Nothing was disclosed in this quarter.")))
    download = escape(_("Download the list (CSV)"))
    body.append(f'<p><a href="{BOARD}/{quarter}.csv?lang={frame.locale}" download>'
                f"{download}</a></p>")
    return page(frame, _("Information made public"), "".join(body), BOARD)


def dialogues(frame: Frame, data: Dialogues) -> str:
    """Upcoming sessions with seats left and how to register; held ones with their outcome."""
    _ = frame._
    held = data.year.sessions_held
    verdict = (_("the legal minimum is met") if held >= LEGAL_MINIMUM_SESSIONS
               else _("the legal minimum is not met yet"))
    summary = _("{year}: {held} session(s) held; the law asks for at least {minimum} a year: "
                "{verdict}.").format(year=data.year.year, held=held,
                                     minimum=LEGAL_MINIMUM_SESSIONS, verdict=verdict)
    body = [frame.updated(),
            f'<p data-figure="sessions-held" data-value="{held}">{escape(summary)}</p>',
            tag("h2", _("Upcoming sessions"))]
    how = _("To register, open the commune’s chatbot on Zalo or Telegram and choose “{menu}” "
            "in the menu.").format(menu=_("Dialogue sessions"))
    for upcoming in data.upcoming:
        item = upcoming.item
        facts = [(_("Time"), frame.when(item.starts_at)), (_("Place"), item.place),
                 (_("Chaired by"), ", ".join(item.leaders)),
                 (_("Seats left"), str(upcoming.seats_left))]
        body.append(f'<div class="card"><h3>{escape(item.topic)}</h3><dl>'
                    + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts
                              if v)
                    + f"</dl><p>{escape(how)}</p></div>")
    if not data.upcoming:
        body.append(tag("p", _("No session is planned yet.")))
    body.append(tag("h2", _("Sessions held")))
    for item in data.held:
        outcome = (escape(item.outcome) if item.outcome
                   else escape(_("The outcome is not published yet.")))
        body.append(f'<div class="card"><h3>{escape(item.topic)}</h3>'
                    f'<p class="period">{escape(frame.when(item.starts_at))} · '
                    f"{escape(item.place)}</p><p>{outcome}</p></div>")
    if not data.held:
        body.append(tag("p", _("No session has been held yet.")))
    return page(frame, _("Dialogue sessions"), "".join(body), DIALOGUES)
