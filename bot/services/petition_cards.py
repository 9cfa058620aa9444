"""A petition as staff see it: the card (what, where, who handles it, the deadline that
applies now, the timeline), the resident's evidence, and the actions the law allows next.

A denunciation's content and the denouncer's identity are shown only to the investigator
role in a private chat (Luật Tố cáo Art. 9); a complainant's identity is shown to staff;
anonymous feedback never shows who sent it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, format_date, translations
from bot.messages import Attachment, Button
from bot.services import petition_statuses as st
from bot.services import petitions as core
from bot.services import roles
from storage.models import Hamlet, Petition, PetitionEvent

# The last allowed day is included: "chậm nhất ngày …", never "trước ngày …".
ACCEPT_DUE = N_("Acceptance to be announced no later than {day}")
ANSWER_DUE = N_("Answer due no later than {day}")
# verb -> button label; the order buttons appear in
ACTION_LABELS = {
    "take": N_("Take it"),
    "accept": N_("Accept (thụ lý)"),
    "refuse": N_("Do not accept"),
    "progress": N_("Being handled"),
    "answer": N_("Answer"),
    "forward": N_("Forward"),
    "extend": N_("Extend the deadline"),
    "assign": N_("Assign to"),
    "close": N_("Close"),
}
EVIDENCE_KINDS = ("photo", "image", "voice", "document")


@dataclass(frozen=True)
class Viewer:
    """Who looks at a card, and where: what they may see depends on both."""

    locale: str = "vi"
    roles: frozenset[str] = frozenset({"staff"})
    private: bool = False  # a private chat (not a staff group)
    channel: str = ""  # the channel the card goes to (which files it can show)
    shell: bool = False  # the command line: a denunciation's content, never its author

    @property
    def investigator(self) -> bool:
        """May read a denunciation and who made it (only in a private chat)."""
        return self.private and "investigator" in self.roles


def due_now(petition: Petition) -> tuple[str, date]:
    """The deadline that applies now: acceptance until a complaint or denunciation is
    accepted (or refused, or forwarded), the answer after; feedback has only the answer."""
    if petition.kind != st.FEEDBACK and petition.status == st.RECEIVED:
        return ACCEPT_DUE, petition.accept_due
    return ANSWER_DUE, petition.answer_due


def due_text(petition: Petition, gettext: Callable[[str], str],
             day: Callable[[date], str]) -> str:
    """The deadline that applies now in words, the same for staff and the resident:
    "Hạn báo thụ lý: chậm nhất ngày 02/12/2026" or "Hạn trả lời: chậm nhất ngày …"."""
    label, due = due_now(petition)
    return gettext(label).format(day=day(due))


def actions(petition: Petition) -> list[str]:
    """The verbs allowed from the current status (see ACTION_LABELS): the legal steps for
    complaints and denunciations, the plain steps for feedback (never "thụ lý")."""
    allowed = st.moves(petition.kind, petition.status)
    verbs = ["take"] if petition.status in st.OPEN else []
    if st.ACCEPTED in allowed and petition.kind != st.FEEDBACK:
        verbs.append("accept")
    if st.REFUSED in allowed and petition.kind != st.FEEDBACK:
        verbs.append("refuse")
    if st.IN_PROGRESS in allowed:
        verbs.append("progress")
    if st.ANSWERED in allowed:
        verbs.append("answer")
    if st.FORWARDED in allowed:
        verbs.append("forward")
    if (petition.kind != st.FEEDBACK and petition.status in (st.ACCEPTED, st.IN_PROGRESS,
                                                              st.REOPENED)
            and not (petition.complex_case and petition.remote_area)):
        verbs.append("extend")
    if petition.status in st.OPEN:
        verbs.append("assign")
    if st.CLOSED in allowed:
        verbs.append("close")
    return verbs


def evidence(petition: Petition, channel: str, *, secret: bool = False
             ) -> tuple[Attachment, ...]:
    """The resident's files that `channel` can show, and the location pin as a map
    location; a file id of another channel cannot be sent (counted by `unshown`). None when
    `secret` (a denunciation seen by anyone but the investigator)."""
    if secret:
        return ()
    files = tuple(_attachment(f) for f in petition.attachments if _shown(f, channel))
    pin = ((Attachment("location", f"{petition.latitude},{petition.longitude}"),)
           if petition.latitude is not None and petition.longitude is not None else ())
    return files + pin


def unshown(petition: Petition, channel: str) -> int:
    """How many files were sent on a channel whose file ids `channel` cannot use."""
    return sum(1 for f in petition.attachments if not _shown(f, channel))


def _shown(stored: dict[str, Any], channel: str) -> bool:
    ref = str(stored.get("ref") or "")
    return (stored.get("kind") in EVIDENCE_KINDS and ref != ""
            and (stored.get("channel") in (None, channel) or "/" in ref))


def _attachment(stored: dict[str, Any]) -> Attachment:
    return Attachment(**{k: stored.get(k) for k in ("kind", "ref", "name", "mime_type",
                                                      "size")})


def secret(petition: Petition, viewer: Viewer) -> bool:
    """True when the viewer may not see the petition's content or evidence."""
    return petition.kind == st.DENUNCIATION and not (viewer.investigator or viewer.shell)


def buttons(petition: Petition, viewer: Viewer) -> tuple[Button, ...]:
    """The card's buttons: the allowed actions, then "Xem ảnh, tệp (2)", "Xem vị trí"."""
    _ = translations(viewer.locale).gettext
    shown = [Button(_(ACTION_LABELS[v]), f"pa:{v}:{petition.id}") for v in actions(petition)]
    hidden = secret(petition, viewer)
    files = [a for a in evidence(petition, viewer.channel, secret=hidden)
             if a.kind != "location"]
    extra = []
    if files:
        extra.append(Button(_("View files ({count})").format(count=len(files)),
                            f"pa:files:{petition.id}"))
    if petition.latitude is not None and not hidden:
        extra.append(Button(_("View the location"), f"pa:pin:{petition.id}"))
    return tuple(shown + extra)


async def card(session: AsyncSession, petition: Petition, settings: core.Settings,
               timezone: str, viewer: Viewer) -> str:
    """The card's text."""
    _ = translations(viewer.locale).gettext
    day = lambda d: format_date(d, viewer.locale, timezone)  # noqa: E731
    names = await roles.staff_names(session)
    hamlet = await session.get(Hamlet, petition.hamlet_id) if petition.hamlet_id else None
    place = ", ".join(p for p in (hamlet.name if hamlet else None, petition.address) if p)
    lines = [
        f"{petition.code} — {_(st.KIND_LABELS[petition.kind])}",
        _("Field: {field}").format(field=settings.field_label(petition.field, viewer.locale)),
        _("Place: {place}").format(place=place or "—"),
        _("Status: {status}").format(status=_(st.STATUS_LABELS[petition.status])),
        due_text(petition, _, day),
        _("Handled by: {name}").format(
            name=roles.display(names, petition.assignee, _("a colleague"))
            if petition.assignee else _("nobody yet")),
    ]
    if secret(petition, viewer):
        lines.append(_("The content and the denouncer's identity are confidential: only "
                       "the investigator reads them, in a private chat with the bot."))
    else:
        lines += ["", petition.description]
        if petition.anonymous:
            lines.append(_("Sent anonymously: who sent it is not shown and there is no "
                           "number to call; the answer reaches the sender in their chat. "
                           "Not handled as a complaint or denunciation."))
        if petition.kind != st.DENUNCIATION or viewer.investigator:
            lines += _identity_lines(await core.identity_of(session, petition,
                                                            set(viewer.roles)), _)
    if viewer.channel and (count := unshown(petition, viewer.channel)):
        lines.append(_("{count} file(s) sent on another channel cannot be shown here.")
                     .format(count=count))
    events = await core.timeline(session, petition.id)
    reopened = next((e for e in reversed(events) if e.status == st.REOPENED), None)
    if petition.rating:
        lines.append(_("Resident's rating: {stars}/5").format(stars=petition.rating))
    if reopened and reopened.note:
        lines.append(_("Reason for reopening: {reason}").format(reason=reopened.note))
    lines += ["", _("Timeline:")]
    hidden = secret(petition, viewer)
    lines += [_event_line(e, names, _, day, hidden) for e in events]
    return "\n".join(lines)


def _identity_lines(identity: Any, _: Callable[[str], str]) -> list[str]:
    if identity is None:
        return []
    lines = [_("Filed by: {name}, {address}").format(name=identity.full_name,
                                                    address=identity.address)
             if identity.address else _("Sent by: {name}").format(name=identity.full_name)]
    if identity.phone:
        lines.append(_("Phone: {phone}").format(phone=identity.phone))
    return lines


def _event_line(event: PetitionEvent, names: dict[str, str], _: Callable[[str], str],
                day: Callable[[Any], str], hidden: bool = False) -> str:
    who = (_("the resident") if event.actor == "resident"
           else roles.display(names, event.actor, _("a colleague")))
    if event.kind == "assign":
        what = _("assigned to {name}").format(
            name=roles.display(names, event.note, _("a colleague")) or "—")
    elif event.kind == "answer":
        what = _(st.STATUS_LABELS[st.ANSWERED])
    elif event.kind == "flag":
        what = _("deadline extended")
    elif event.kind == "addition":  # the resident's added text, unless it is confidential
        what = _("added information") + ("" if hidden else f": “{event.note}”")
    elif event.kind == "rating":
        what = _("rated {stars}/5").format(stars=event.note)
    elif event.status:
        what = _(st.STATUS_LABELS[event.status])
        if event.note and event.status != st.REOPENED:
            what += f" ({event.note})"
    else:
        what = event.kind
    return f"• {day(event.at)} — {what} — {who}"


def queue_line(petition: Petition, today: date, locale: str, timezone: str) -> str:
    """One petition in the queue: code, overdue or due, the status."""
    _ = translations(locale).gettext
    _label, due = due_now(petition)
    mark = _("OVERDUE") if due < today else _("due")
    return (f"{petition.code} — {mark} {format_date(due, locale, timezone)} — "
            f"{_(st.STATUS_LABELS[petition.status])}")


def by_urgency(petitions: Sequence[Petition]) -> list[Petition]:
    """Overdue first, then by the deadline that applies now, then oldest first."""
    return sorted(petitions, key=lambda p: (due_now(p)[1], p.id))
