"""`python -m bot session …`: staff announce and run dialogue sessions from the shell.

Times are "YYYY-MM-DD HH:MM" in the commune's time zone. Errors raise SessionError, which
the entry point prints as one line.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.services import session_outcome, session_tickets
from bot.services import session_rules as rules
from bot.services import sessions as service
from bot.services.sessions import SessionError
from storage import clock
from storage.models import DialogueSession
from storage.repositories import (
    DialogueSessions,
    Hamlets,
    SessionQuestions,
    SessionRegistrations,
)

if TYPE_CHECKING:
    from bot.app import App


def _moment(text: str) -> datetime:
    """A local "YYYY-MM-DD HH:MM" (naive; the command adds the commune's time zone)."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time like \"2026-12-31 08:00\"") from None


def _local(app: App, naive: datetime) -> datetime:
    return naive.replace(tzinfo=ZoneInfo(app.settings.timezone))


def _when(app: App, moment: datetime) -> str:
    return f"{moment.astimezone(ZoneInfo(app.settings.timezone)):%Y-%m-%d %H:%M}"


def _warn(messages: list[str]) -> None:
    for message in messages:
        print(f"warning: {message}", file=sys.stderr)


async def _get(app: App, session_id: int) -> DialogueSession:
    async with app.db.session() as session:
        item = await DialogueSessions(session).get(session_id)
    if item is None:
        raise SessionError(f"no dialogue session {session_id}")
    return item


async def cmd_add(app: App, args: argparse.Namespace, actor: str) -> int:
    """Announce a new dialogue session."""
    now = clock.now()
    reminders = [r.strip() for r in args.reminders.split(",") if r.strip()] if (
        args.reminders) else None
    plan = rules.Plan(topic=args.topic, start=_local(app, args.start), place=args.place,
                      capacity=args.capacity, leaders=args.leader or [],
                      duration_minutes=args.duration, reserved=args.reserved,
                      online_link=args.online_link, reminders=reminders)
    rules.check(plan, now, app.settings.timezone)
    await app.prepare()
    async with app.db.unit_of_work() as session:
        item = await service.announce(session, plan, actor=actor, now=now,
                                      timezone=app.settings.timezone)
        await session.commit()
    _warn(rules.warnings(item.starts_at, now))
    print(f"announced dialogue session {item.id}: {item.topic} ({_when(app, item.starts_at)}, "
          f"{rules.open_seats(item)} seats for residents); residents open it with "
          f"/start s_{item.id} on Telegram or by typing s{item.id}")
    return 0


async def cmd_list(app: App, args: argparse.Namespace, actor: str) -> int:
    """Sessions, newest first, one line each."""
    await app.prepare()
    async with app.db.session() as session:
        for item in await DialogueSessions(session).listing(args.limit):
            seats = await service.seats(session, item)
            print(f"{item.id:>5}  {_when(app, item.starts_at)}  {item.status:<9}  "
                  f"{seats.taken:>3}/{seats.open:<3} seats  {seats.waiting:>3} waiting  "
                  f"{item.topic}")
    return 0


async def cmd_show(app: App, args: argparse.Namespace, actor: str) -> int:
    """One session: details, registrations and questions grouped by hamlet."""
    await app.prepare()
    item = await _get(app, args.id)
    async with app.db.session() as session:
        seats = await service.seats(session, item)
        hamlets = {h.id: h.name for h in await Hamlets(session).all()}
        registrations = await SessionRegistrations(session).with_status(
            item.id, *rules.ACTIVE)
        questions = await SessionQuestions(session).of_session(item.id)
    if not args.questions_only:
        print(f"#{item.id} {item.topic}")
        print(f"  when:     {_when(app, item.starts_at)} ({item.duration_minutes} min)")
        print(f"  place:    {item.place}" + (f"  online: {item.online_link}"
                                             if item.online_link else ""))
        print(f"  leaders:  {', '.join(item.leaders) or '-'}")
        print(f"  status:   {item.status}; {seats.taken}/{seats.open} seats taken "
              f"({item.reserved} reserved, capacity {item.capacity}), {seats.waiting} waiting, "
              f"{sum(r.checked_in_at is not None for r in registrations)} checked in")
        print(f"  reminders: {', '.join(item.reminders) or '-'}")
        print(f"\nRegistrations ({len(registrations)}):")
        for hamlet, rows in service.grouped_by_hamlet(registrations, hamlets,
                                                      "(no hamlet)").items():
            print(f"  {hamlet} ({len(rows)})")
            for row in rows:
                state = "seat" if row.status == rules.REGISTERED else f"waiting #{row.position}"
                mark = " checked in" if row.checked_in_at else ""
                print(f"    {row.ticket}  {state:<11} {row.name}"
                      f"{'  ' + row.phone if row.phone else ''}{mark}")
    print(f"\nQuestions ({len(questions)}) on “{item.topic}”:")
    for hamlet, rows in service.grouped_by_hamlet(questions, hamlets, "(no hamlet)").items():
        print(f"  {hamlet} ({len(rows)})")
        for row in rows:
            print(f"    - {row.text}")
    return 0


async def cmd_checkin(app: App, args: argparse.Namespace, actor: str) -> int:
    """Mark attendance by ticket code (a code works once)."""
    await app.prepare()
    async with app.db.unit_of_work() as session:
        registration = await session_tickets.check_in(session, args.ticket, now=clock.now(),
                                                      timezone=app.settings.timezone,
                                                      session_id=args.session)
        await session.commit()
    print(f"checked in: {registration.name} (ticket {registration.ticket}, session "
          f"{registration.session_id})")
    return 0


async def cmd_move(app: App, args: argparse.Namespace, actor: str) -> int:
    """Change time or place; registrants are told and reminders planned again."""
    if not (args.start or args.place or args.online_link is not None or args.duration):
        raise SessionError("nothing to change: give --start, --place, --online-link or "
                           "--duration")
    now = clock.now()
    await app.prepare()
    async with app.db.unit_of_work() as session:
        told = await service.reschedule(
            session, args.id, actor=actor, now=now, timezone=app.settings.timezone,
            start=_local(app, args.start) if args.start else None, place=args.place,
            online_link=args.online_link, duration_minutes=args.duration)
        await session.commit()
    if args.start:
        _warn(rules.warnings(_local(app, args.start), now))
    print(f"session {args.id} changed; {told} registrant(s) will be told")
    return 0


async def cmd_cancel(app: App, args: argparse.Namespace, actor: str) -> int:
    """Cancel a session; every registrant is told once."""
    await app.prepare()
    async with app.db.unit_of_work() as session:
        told = await service.cancel_session(session, args.id, actor=actor,
                                            timezone=app.settings.timezone)
        await session.commit()
    print(f"session {args.id} cancelled; {told} registrant(s) will be told")
    return 0


def _outcome_text(text: str | None, file: str | None) -> str:
    if not file:
        return text or ""
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"cannot read the outcome file {file}: {exc}") from None


async def cmd_close(app: App, args: argparse.Namespace, actor: str) -> int:
    """Publish the outcome: registrants and askers are told; it is also a disclosure."""
    outcome = _outcome_text(args.outcome, args.outcome_file)
    now = clock.now()
    await app.prepare()
    async with app.db.unit_of_work() as session:
        told, item = await session_outcome.close(session, args.id, outcome, actor=actor, now=now,
                                                 timezone=app.settings.timezone,
                                                 locale=app.settings.default_locale)
        await session.commit()
    if rules.late_outcome(item, now):
        print("warning: the outcome is published more than 10 days after the session",
              file=sys.stderr)
    print(f"session {item.id} closed; outcome published as disclosure "
          f"{item.outcome_disclosure_id}; {told} person(s) will be told")
    return 0


async def cmd_capacity(app: App, args: argparse.Namespace, actor: str) -> int:
    """Change the number of seats (refused below the number registered)."""
    await app.prepare()
    async with app.db.unit_of_work() as session:
        promoted = await service.set_capacity(
            session, args.id, args.capacity, actor=actor, now=clock.now(),
            timezone=app.settings.timezone, reserved=args.reserved)
        await session.commit()
    print(f"session {args.id} now has {args.capacity} seats; {len(promoted)} person(s) moved "
          "up from the waiting list")
    return 0


def register(sub: argparse._SubParsersAction, run: object) -> None:
    """Add the `session` subcommand; `run` wraps each command."""
    parser = sub.add_parser("session", help="announce and run dialogue sessions")
    actions = parser.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="announce a dialogue session")
    add.add_argument("--topic", required=True)
    add.add_argument("--start", required=True, type=_moment, help='"YYYY-MM-DD HH:MM", local')
    add.add_argument("--place", required=True)
    add.add_argument("--capacity", required=True, type=int, help="every seat, reserved included")
    add.add_argument("--leader", action="append", help="who leads it (repeatable)")
    add.add_argument("--duration", type=int, default=120, help="minutes (default 120)")
    add.add_argument("--reserved", type=int, default=0, help="seats kept for invited guests")
    add.add_argument("--online-link", help="https://… to attend online")
    add.add_argument("--reminders", help='offsets, default "1d@08:00,2h" (also e.g. "30m")')
    add.set_defaults(func=run(cmd_add))

    listing = actions.add_parser("list", help="sessions, newest first")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=run(cmd_list))

    show = actions.add_parser("show", help="details, registrations and questions by hamlet")
    show.add_argument("id", type=int)
    show.set_defaults(func=run(cmd_show), questions_only=False)
    questions = actions.add_parser("questions", help="the questions sent in advance, by hamlet")
    questions.add_argument("id", type=int)
    questions.set_defaults(func=run(cmd_show), questions_only=True)

    checkin = actions.add_parser("checkin", help="check an attendee in by ticket code")
    checkin.add_argument("--ticket", required=True)
    checkin.add_argument("--session", type=int, help="refuse tickets of other sessions")
    checkin.set_defaults(func=run(cmd_checkin))

    move = actions.add_parser("move", aliases=["edit"],
                              help="change time or place (registrants are told)")
    move.add_argument("id", type=int)
    move.add_argument("--start", type=_moment, help='"YYYY-MM-DD HH:MM", local')
    move.add_argument("--place")
    move.add_argument("--online-link")
    move.add_argument("--duration", type=int)
    move.set_defaults(func=run(cmd_move))

    cancel = actions.add_parser("cancel", help="cancel a session (registrants are told)")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(func=run(cmd_cancel))

    close = actions.add_parser("close", help="publish the outcome after the session")
    close.add_argument("id", type=int)
    text = close.add_mutually_exclusive_group(required=True)
    text.add_argument("--outcome-file", help="UTF-8 text: summary and answers to questions")
    text.add_argument("--outcome")
    close.set_defaults(func=run(cmd_close))

    capacity = actions.add_parser("capacity", help="change the number of seats")
    capacity.add_argument("id", type=int)
    capacity.add_argument("capacity", type=int)
    capacity.add_argument("--reserved", type=int)
    capacity.set_defaults(func=run(cmd_capacity))
