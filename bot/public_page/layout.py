"""The frame of every public page: the commune's name and contact, the sections, the
language switch and when the figures were counted. Plain HTML and CSS, no script."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlencode

from bot.i18n import format_datetime, translations, unit_name
from storage.models import Commune

HOME = "/"
BOARD = "/cong-khai/thong-tin"
DIALOGUES = "/cong-khai/doi-thoai"
PETITIONS = "/cong-khai/phan-anh"
LOOKUP = "/cong-khai/tra-cuu"
FILES = "/cong-khai/tep"

CSS = """
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;
background:#f6f7f9;overflow-wrap:anywhere}
header{background:#a50e0e;color:#fff;padding:.75rem 1rem}
header p{margin:.1rem 0}.commune{font-weight:700;font-size:1.15rem}
header a{color:#fff}.lang{float:right;margin-left:.5rem}
nav{display:flex;flex-wrap:wrap;gap:.25rem .75rem;padding:.5rem 1rem;background:#fff;
border-bottom:1px solid #ddd}
nav a{color:#a50e0e;font-weight:600;text-decoration:none}
nav a[aria-current]{text-decoration:underline}
main{max-width:60rem;margin:0 auto;padding:0 1rem 2rem}
h1{font-size:1.4rem}h2{font-size:1.2rem;margin-top:1.75rem}h3{font-size:1.05rem}
.period,.updated{color:#555;font-size:.9rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}
.chart{width:100%;max-width:40rem;height:auto;display:block;background:#fff;margin:.5rem 0}
.chart text{font-size:12px;fill:#1b1b1b}.chart .bar{fill:#a50e0e}.chart .axis{stroke:#999}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .75rem}dd{margin:0}dt{color:#555}
.card{background:#fff;border:1px solid #ddd;border-radius:4px;padding:.5rem .75rem;margin:.5rem 0}
form{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0}
input[type=search],input[type=text]{flex:1 1 12rem;min-width:0;padding:.4rem;font-size:1rem}
button{padding:.4rem .9rem;font-size:1rem}
footer{max-width:60rem;margin:0 auto;padding:1rem;color:#555;font-size:.85rem}
"""


@dataclass
class Frame:
    """What every page needs: the language, the commune, the time zone and the moment the
    figures were counted."""

    locale: str
    timezone: str
    commune: Commune | None
    now: datetime
    path: str
    params: dict[str, str]

    @property
    def _(self) -> Callable[[str], str]:
        """The gettext of the page's language."""
        return translations(self.locale).gettext

    def when(self, moment: datetime) -> str:
        """A moment in the commune's time, in the page's language."""
        return format_datetime(moment, self.locale, self.timezone)

    def updated(self) -> str:
        """The "updated at" line that goes with every figure."""
        text = self._("Updated at {time}").format(time=self.when(self.now))
        return f'<p class="updated">{escape(text)}</p>'

    def switch(self) -> str:
        """The link to the same page in the other language."""
        other, label = ("en", "English") if self.locale == "vi" else ("vi", "Tiếng Việt")
        query = urlencode({**self.params, "lang": other})
        return (f'<a class="lang" href="{escape(self.path)}?{escape(query)}" hreflang="{other}" '
                f'lang="{other}">{label}</a>')


def page(frame: Frame, title: str, body: str, current: str = "") -> str:
    """The whole HTML document around a page's body."""
    _ = frame._
    commune = frame.commune
    name = (unit_name(commune.name, commune.unit_type, frame.locale) if commune
            else _("the commune"))
    heading = _("People's Committee of {commune}").format(commune=name)
    contact = " · ".join(escape(part) for part in (
        commune.office_address if commune else "",
        _("Phone: {phone}").format(phone=commune.office_phone)
        if commune and commune.office_phone else "",
        commune.office_email if commune else "") if part)
    sections, note = _("Sections"), _("The commune’s record, counted from its chatbot.")
    updated = _("Updated at {time}").format(time=frame.when(frame.now))
    links = "".join(
        f'<a href="{href}"{" aria-current=page" if href == current else ""}>{escape(label)}</a>'
        for href, label in ((HOME, _("Feedback and petitions")),
                            (BOARD, _("Information made public")),
                            (DIALOGUES, _("Dialogue sessions"))))
    return (
        f'<!doctype html><html lang="{frame.locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no favicon request
        f"<title>{escape(title)} · {escape(heading)}</title><style>{CSS}</style></head>"
        f"<body><header>{frame.switch()}<p class=\"commune\">{escape(heading)}</p>"
        f'<p class="contact">{contact}</p></header>'
        f'<nav aria-label="{escape(sections)}">{links}</nav>'
        f"<main><h1>{escape(title)}</h1>{body}</main>"
        f"<footer>{escape(note)} {escape(updated)}</footer>"
        "</body></html>")


def tag(name: str, text: str, css: str = "") -> str:
    """One element holding plain text (escaped)."""
    attribute = f' class="{css}"' if css else ""
    return f"<{name}{attribute}>{escape(text)}</{name}>"


def table(header: list[str], rows: list[list[str]], key: str = "") -> str:
    """An HTML table that scrolls on its own on a narrow screen; cells are already HTML."""
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join("<tr>" + "".join(cell if cell.startswith("<td") else f"<td>{cell}</td>"
                                    for cell in row) + "</tr>" for row in rows)
    data = f' data-table="{escape(key)}"' if key else ""
    return (f'<div class="scroll"><table{data}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")
