"""The words staff type for petition statuses, Vietnamese first, with or without
accents ("thụ lý", "thu ly", "đang xử lý", "từ chối", "chuyển"…), English codes as well.
"""

from __future__ import annotations

from bot.services.petition_statuses import (
    ACCEPTED,
    ANSWERED,
    CLOSED,
    FORWARDED,
    IN_PROGRESS,
    REFUSED,
    REOPENED,
)
from bot.textfold import fold

# folded words -> status; the first word of each status is the one shown in help texts
WORDS: dict[str, str] = {
    "thu ly": ACCEPTED, "da thu ly": ACCEPTED, "accept": ACCEPTED, "accepted": ACCEPTED,
    "dang xu ly": IN_PROGRESS, "xu ly": IN_PROGRESS, "xac minh": IN_PROGRESS,
    "in_progress": IN_PROGRESS, "progress": IN_PROGRESS,
    "khong thu ly": REFUSED, "tu choi": REFUSED, "refuse": REFUSED, "refused": REFUSED,
    "chuyen": FORWARDED, "chuyen don": FORWARDED, "forward": FORWARDED,
    "forwarded": FORWARDED,
    "tra loi": ANSWERED, "da tra loi": ANSWERED, "answer": ANSWERED, "answered": ANSWERED,
    "dong": CLOSED, "ket thuc": CLOSED, "close": CLOSED, "closed": CLOSED,
    "mo lai": REOPENED, "reopen": REOPENED, "reopened": REOPENED,
}
SHOWN = ("thụ lý", "đang xử lý", "không thụ lý (từ chối)", "chuyển", "trả lời", "đóng")


def status_of(words: str) -> tuple[str | None, str]:
    """The status the first words name and the rest of the text (a reason), longest match
    first: "không thụ lý vì đã quá hạn" -> ("refused", "vì đã quá hạn")."""
    parts = words.split()
    for size in (3, 2, 1):
        if len(parts) >= size and (found := WORDS.get(fold(" ".join(parts[:size])))):
            return found, " ".join(parts[size:])
    return None, words.strip()
