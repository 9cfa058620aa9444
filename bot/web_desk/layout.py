"""The frame of every desk page: the sections, the signed-in person, sign-out. Plain HTML
and CSS from the public page (bot.public_page.layout); a page adds script only where it
helps (the progress bar), and works without it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from bot.i18n import N_, format_datetime, translations
from bot.public_page.layout import CSS

ROOT = "/ban-lam-viec"
LOG = f"{ROOT}/nhat-ky"
PETITIONS = f"{ROOT}/phan-anh"
REPORT = f"{ROOT}/bao-cao"
JOBS = f"{ROOT}/viec"
SIGN_OUT = f"{ROOT}/dang-xuat"

DESK_CSS = CSS + """
header{background:#1d3f72}nav a{color:#1d3f72}.who{float:right}
.who form{display:inline;margin:0}.who button{padding:.1rem .5rem;font-size:.9rem}
.filters{background:#fff;border:1px solid #ddd;padding:.5rem;border-radius:4px}
.filters label{display:flex;flex-direction:column;font-size:.85rem;color:#555}
.filters input,.filters select{flex:none;padding:.3rem;font-size:1rem;min-width:8rem}
main{max-width:90rem}.filters button{align-self:flex-end}
.redacted{color:#8a5a00;font-style:italic}.ok{color:#176b2c}.bad{color:#a50e0e;font-weight:700}
progress{width:100%;max-width:30rem;height:1.2rem}
.actions form{display:inline-flex}.evidence img{max-width:100%;max-height:24rem}
textarea{width:100%;min-height:6rem;font:inherit}
"""


@dataclass
class Visit:
    """One request of a signed-in person: who, the page's language and the CSRF token."""

    actor: str  # the name colleagues see
    identity: str  # "telegram:900001", as actions are recorded
    roles: frozenset[str]
    locale: str
    timezone: str
    csrf: str
    session_id: int = 0  # the WebSession row
    posted: Any = None  # a POST's fields, once the CSRF token was checked

    @property
    def _(self) -> Callable[[str], str]:
        """The gettext of the page's language."""
        return translations(self.locale).gettext

    def when(self, moment) -> str:
        """A moment in the commune's time."""
        return format_datetime(moment, self.locale, self.timezone) if moment else ""

    def form(self, action: str, body: str, method: str = "post", css: str = "") -> str:
        """A form that changes something: it carries the CSRF token."""
        klass = f' class="{css}"' if css else ""
        return (f'<form method="{method}" action="{escape(action)}"{klass}>'
                f'<input type="hidden" name="csrf" value="{self.csrf}">{body}</form>')


def page(visit: Visit, title: str, body: str, current: str = "", head: str = "") -> str:
    """The whole HTML document of a desk page."""
    _ = visit._
    links = "".join(
        f'<a href="{href}"{" aria-current=page" if href == current else ""}>{escape(label)}</a>'
        for href, label in ((LOG, _("Interaction log")), (PETITIONS, _("Petitions")),
                            (REPORT, _("Report"))))
    sign_out = visit.form(SIGN_OUT, f'<button>{escape(_("Sign out"))}</button>')
    return (
        f'<!doctype html><html lang="{visit.locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
        f"<title>{escape(title)} · {escape(_('Office desk'))}</title>"
        f"<style>{DESK_CSS}</style>{head}</head>"
        f'<body><header><span class="who">{escape(visit.actor)} {sign_out}</span>'
        f'<p class="commune">{escape(_("Office desk"))}</p></header>'
        f'<nav aria-label="{escape(_("Sections"))}">{links}</nav>'
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>")


def bare(locale: str, title: str, body: str) -> str:
    """A page for someone not signed in (the sign-in step, a refusal)."""
    return (f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
            f"<title>{escape(title)}</title><style>{DESK_CSS}</style></head><body>"
            f"<main><h1>{escape(title)}</h1>{body}</main></body></html>")


def _catalog() -> None:
    """Marks the words used inside f-strings above for the catalog (its extractor
    cannot read into f-strings); never called."""
    N_('Sign out')
    N_('Office desk')
    N_('Sections')
