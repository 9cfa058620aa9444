"""Legal deadlines of petitions, as a versioned table (../shared/DOMAIN.md §4.1 and §4.5).

Each rule says, for one kind of petition and one clock, how many days the commune has,
whether they are working or calendar days, from which date the rule is in force, and the
legal basis. The rule used is the newest one in force on the day the petition was received,
so a petition keeps the rules it was filed under. Complex and remote-area cases get the
longer periods the law gives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.workdays import Calendar

FEEDBACK, COMPLAINT, DENUNCIATION = "feedback", "complaint", "denunciation"
KINDS = (FEEDBACK, COMPLAINT, DENUNCIATION)
ACCEPT, RESOLVE = "accept", "resolve"  # the clocks: tell the person / answer the matter


@dataclass(frozen=True)
class Rule:
    """One row of the rules table."""

    kind: str
    clock: str
    days: int
    working: bool
    effective_from: date
    basis: str
    complex_days: int | None = None  # complex cases (written determination)
    remote_days: int | None = None  # remote or hard-to-reach areas
    remote_complex_days: int | None = None

    @property
    def version(self) -> str:
        """How a petition records the rule it was filed under."""
        return f"{self.kind}/{self.clock}/{self.effective_from.isoformat()}"

    def period(self, *, complex_case: bool = False, remote: bool = False) -> int:
        """The number of days for this case."""
        if remote and complex_case and self.remote_complex_days:
            return self.remote_complex_days
        if remote and self.remote_days:
            return self.remote_days
        if complex_case and self.complex_days:
            return self.complex_days
        return self.days


BASELINE = date(2023, 7, 1)
REFORM = date(2026, 7, 1)  # Law 136/2025/QH15 and Decrees 154-156/2026

RULES: tuple[Rule, ...] = (
    Rule(FEEDBACK, ACCEPT, 10, True, BASELINE, "Luật Tiếp công dân 2013, Điều 28(1)"),
    # No statutory answer deadline for feedback: the commune's own service level
    # (Law 10/2022 Art. 35 asks for a prompt answer); the commune file may change it.
    Rule(FEEDBACK, RESOLVE, 15, True, BASELINE, "Quy chế dân chủ của xã (cam kết trả lời)"),
    Rule(COMPLAINT, ACCEPT, 10, True, BASELINE, "Luật Khiếu nại 2011, Điều 27; TT 07/2013"),
    Rule(COMPLAINT, ACCEPT, 7, True, REFORM, "Luật Khiếu nại sửa đổi 2025; NĐ 155/2026"),
    Rule(COMPLAINT, RESOLVE, 30, False, BASELINE, "Luật Khiếu nại 2011, Điều 28",
         complex_days=45, remote_days=45, remote_complex_days=60),
    Rule(DENUNCIATION, ACCEPT, 7, True, BASELINE, "Luật Tố cáo 2018, Điều 24(1)"),
    Rule(DENUNCIATION, RESOLVE, 30, False, BASELINE, "Luật Tố cáo 2018, Điều 30",
         complex_days=60, remote_days=30, remote_complex_days=60),
)


def rule_for(kind: str, clock: str, received: date,
             rules: tuple[Rule, ...] = RULES) -> Rule:
    """The rule in force on the day the petition was received."""
    in_force = [r for r in rules if r.kind == kind and r.clock == clock
                and r.effective_from <= received]
    if not in_force:
        raise LookupError(f"no {clock} rule for {kind} on {received}")
    return max(in_force, key=lambda r: r.effective_from)


def due_date(rule: Rule, start: date, calendar: Calendar, *, complex_case: bool = False,
             remote: bool = False) -> date:
    """The last day allowed by `rule`, counted from `start` (which does not count).

    Working days skip weekends and days off. A count of calendar days that ends on a
    weekend or a public holiday ends at the close of the next working day (Bộ luật Dân sự
    2015, Điều 148(5)).
    """
    days = rule.period(complex_case=complex_case, remote=remote)
    if rule.working:
        return calendar.add_working_days(start, days)
    return calendar.next_working_day(start + timedelta(days=days))
