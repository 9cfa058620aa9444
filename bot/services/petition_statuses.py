"""Petition kinds and statuses as people see them: tracking-code prefixes and codes, labels,
the legal step each status stands for, and the moves between statuses (DOMAIN.md §4.1).
"""

from __future__ import annotations

from bot.i18n import N_
from bot.services import petition_rules as rules

FEEDBACK, COMPLAINT, DENUNCIATION = rules.FEEDBACK, rules.COMPLAINT, rules.DENUNCIATION
PREFIXES = {FEEDBACK: "PA", COMPLAINT: "KN", DENUNCIATION: "TC"}
KIND_LABELS = {
    FEEDBACK: N_("Feedback or recommendation"),
    COMPLAINT: N_("Complaint"),
    DENUNCIATION: N_("Denunciation"),
}
# A petition named with its type wherever a resident reads its code: "Khiếu nại KN-…".
NAMED = {
    FEEDBACK: N_("Feedback {code}"),
    COMPLAINT: N_("Complaint {code}"),
    DENUNCIATION: N_("Denunciation {code}"),
}

RECEIVED, ACCEPTED, FORWARDED, REFUSED = "received", "accepted", "forwarded", "refused"
IN_PROGRESS, ANSWERED, CLOSED, REOPENED = "in_progress", "answered", "closed", "reopened"
# Plain words for residents, and the legal step each status stands for (DOMAIN.md §4.1).
STATUS_LABELS = {
    RECEIVED: N_("Received"),
    ACCEPTED: N_("Accepted for handling"),
    FORWARDED: N_("Forwarded to the competent body"),
    REFUSED: N_("Not accepted"),
    IN_PROGRESS: N_("Being looked into"),
    ANSWERED: N_("Answered"),
    CLOSED: N_("Closed"),
    REOPENED: N_("Reopened at your request"),
}
LEGAL_STEPS = {
    RECEIVED: N_("reception (tiếp nhận)"),
    ACCEPTED: N_("acceptance (thụ lý)"),
    FORWARDED: N_("transfer (chuyển đơn)"),
    REFUSED: N_("non-acceptance (không thụ lý)"),
    IN_PROGRESS: N_("verification (xác minh)"),
    ANSWERED: N_("conclusion and answer (kết luận, trả lời)"),
    CLOSED: N_("end of handling (kết thúc)"),
    REOPENED: N_("request for review (đề nghị xem xét lại)"),
}
# What a resident reads: plain words for feedback (it is never "thụ lý"), the legal step
# for complaints and denunciations; each label says it once ("Đã thụ lý", not "(thụ lý)").
PLAIN_LABELS = {
    RECEIVED: N_("Received"),
    ACCEPTED: N_("Being handled"),  # not a feedback status since the desk; older rows
    FORWARDED: N_("Forwarded to the competent body"),
    REFUSED: N_("Closed"),  # likewise
    IN_PROGRESS: N_("Being handled"),
    ANSWERED: N_("Answered"),
    CLOSED: N_("Closed"),
    REOPENED: N_("Reopened at your request"),
}
LEGAL_LABELS = {
    RECEIVED: N_("Received, acceptance pending"),
    ACCEPTED: N_("Accepted for handling"),
    FORWARDED: N_("Petition forwarded to the competent body"),
    REFUSED: N_("Not accepted"),
    IN_PROGRESS: N_("Being verified"),
    ANSWERED: N_("Decided and answered"),
    CLOSED: N_("Closed"),
    REOPENED: N_("Review requested"),
}
TRANSITIONS = {
    RECEIVED: {ACCEPTED, FORWARDED, REFUSED},
    ACCEPTED: {IN_PROGRESS, ANSWERED},
    IN_PROGRESS: {ANSWERED},
    ANSWERED: {CLOSED, REOPENED},
    REOPENED: {IN_PROGRESS, ANSWERED},
    FORWARDED: {CLOSED},
    REFUSED: {CLOSED},
    CLOSED: set(),
}
# Plain feedback has no acceptance (thụ lý is a complaint word): received, then handled,
# then answered; it may be passed on to the competent body, never "not accepted".
FEEDBACK_TRANSITIONS = TRANSITIONS | {RECEIVED: {IN_PROGRESS, ANSWERED, FORWARDED}}
NEEDS_REASON = {FORWARDED, REFUSED, REOPENED}
OPEN = (RECEIVED, ACCEPTED, IN_PROGRESS, REOPENED)


def moves(kind: str, status: str) -> set[str]:
    """The statuses a petition of `kind` may go to from `status`."""
    table = FEEDBACK_TRANSITIONS if kind == FEEDBACK else TRANSITIONS
    return table.get(status, set())


def resident_label(kind: str, status: str) -> str:
    """The status as the sender reads it (a msgid): plain for feedback, legal otherwise."""
    return (PLAIN_LABELS if kind == FEEDBACK else LEGAL_LABELS)[status]


def tracking_code(kind: str, year: int, petition_id: int) -> str:
    """The tracking code of a petition: prefix, year received and number, "PA-2026-000001"."""
    return f"{PREFIXES[kind]}-{year}-{petition_id:06d}"


def normal_code(code: str) -> str:
    """A typed tracking code as stored: upper case, without spaces."""
    return "".join(code.split()).upper()
