"""What every flow step receives (`Ctx`) and how steps are grouped (`Flow`).

Flows import no channel library: they read `ctx.msg`, change rows through `ctx.session`
and queue replies with `ctx.say`. A step returns the next step function, `END`, or
`STAY` (answer without moving, e.g. after a stale button).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import format_date, format_datetime, translations
from bot.messages import Attachment, Button, Inbound, Reply, Request
from storage.models import Commune, User

END = None
STAFF_ROLES = frozenset({"staff", "admin"})


class _Stay:
    """Sentinel: keep the conversation where it was."""

    def __repr__(self) -> str:
        return "STAY"


STAY: Any = _Stay()

Step = Callable[["Ctx"], Awaitable[Any]]


@dataclass
class Ctx:
    """One inbound message being answered: who, what, where in the flow, and the replies."""

    msg: Inbound
    user: User
    session: AsyncSession
    commune: Commune | None
    now: datetime
    timezone: str
    data: dict[str, Any] = field(default_factory=dict)
    offered: tuple[Button, ...] = ()
    roles: frozenset[str] = frozenset({"resident"})
    # For the few steps that write files or open their own reads (exports in the staff chat).
    db: Any = None
    data_dir: Path | None = None
    pseudonym_key: bytes = b""
    web_base_url: str | None = None  # where the web desk is reached (sign-in links)
    replies: list[Reply] = field(default_factory=list)
    open_petitions: int | None = None  # for staff: the count on the desk's menu entry
    # Slow work to run once this turn is committed (see `after`).
    later: list[Callable[[], Awaitable[list[Reply]]]] = field(default_factory=list)

    def _(self, message: str) -> str:
        """Translate into the user's language (read at call time: it may just have changed)."""
        return translations(self.user.locale).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate with a plural form chosen by `n`."""
        return translations(self.user.locale).ngettext(singular, plural, n)

    def say(
        self, text: str, *buttons: Button, edit: bool = False,
        attachments: tuple[Attachment, ...] = (), alert: bool = False,
        wants_reply: bool = False, requests: tuple[Request, ...] = (),
    ) -> None:
        """Queue a reply to the user who wrote (`alert`: a pop-up answer to a pressed button;
        `wants_reply`: open a reply to it where the channel can; `requests`: share-location /
        share-phone buttons where the channel has them)."""
        self.replies.append(Reply(text, tuple(buttons), attachments, edit, alert, wants_reply,
                                  requests))

    def after(self, job: Callable[[], Awaitable[list[Reply]]]) -> None:
        """Run `job` once this turn is committed, outside it (a big export must not hold
        the database or the chat); the replies it returns go to the same chat through the
        outbox."""
        self.later.append(job)

    def when(self, moment: datetime) -> str:
        """A moment in the user's language and the commune's time zone."""
        return format_datetime(moment, self.user.locale, self.timezone)

    def day(self, moment: datetime) -> str:
        """A calendar day in the user's language."""
        return format_date(moment, self.user.locale, self.timezone)

    @property
    def is_staff(self) -> bool:
        """True for commune staff and admins (checked on every staff action)."""
        return bool(self.roles & STAFF_ROLES)

    @property
    def chosen(self) -> str | None:
        """The payload of the pressed (or typed) button, if any."""
        return self.msg.payload


def asks_personal_data(step: Step) -> Step:
    """Mark a step that receives a name, address, phone or ID number: the log keeps its typed
    text as "[đã ẩn]" and a pressed button by its payload, never by its label."""
    step.asks_personal_data = True  # type: ignore[attr-defined]
    return step


@dataclass(frozen=True)
class Flow:
    """A named group of steps; the first one starts the flow."""

    name: str
    start: Step
    steps: dict[str, Step]

    @classmethod
    def of(cls, name: str, *steps: Step) -> Flow:
        """Build a flow from its steps, the first being the entry."""
        return cls(name, steps[0], {step.__name__: step for step in steps})
