"""`python -m bot petition …`: staff handle petitions from the shell.

list, show (never a denouncer's identity), identity (only for an investigator, logged),
status, answer, assign, flag. Errors raise PetitionError, printed as one line.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.services import petition_cards, refusals
from bot.services import petitions as service
from bot.services.petition_statuses import OPEN, TRANSITIONS
from bot.services.petitions import PetitionError
from bot.services.roles import roles_of
from storage import clock
from storage.models import InteractionLog, Petition
from storage.repositories import Communes, InteractionLogs

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bot.app import App


async def _petition(session: AsyncSession, code: str) -> Petition:
    petition = await service.by_code(session, code)
    if petition is None:
        raise PetitionError("code", f"no petition {code}")
    return petition


async def _settings(session: AsyncSession) -> service.Settings:
    return service.Settings.of(await Communes(session).current())


async def cmd_list(app: App, args: argparse.Namespace, actor: str) -> int:
    """Petitions by due date, optionally filtered."""
    await app.prepare()
    tz = app.settings.timezone
    async with app.db.session() as session:
        settings = await _settings(session)
        today = service.local_day(clock.now(), tz)
        due_by = None
        if args.overdue:
            due_by = today - timedelta(days=1)
        elif args.due_soon:
            due_by = settings.calendar.add_working_days(today, 2)
        statuses = args.status or (OPEN if (args.overdue or args.due_soon) else ())
        rows = await service.listing(session, statuses=statuses, due_by=due_by,
                                     limit=args.limit)
        for petition in rows:
            late = " OVERDUE" if (petition.status in OPEN
                                  and petition.answer_due < today) else ""
            print(f"{petition.code}  {petition.kind:<12} {petition.status:<11} due "
                  f"{petition.answer_due}{late}  {petition.field}  "
                  f"{petition.assignee or '-'}")
    return 0


async def cmd_show(app: App, args: argparse.Namespace, actor: str) -> int:
    """The staff card and the timeline (a denunciation without content or identity)."""
    await app.prepare()
    async with app.db.session() as session:
        petition = await _petition(session, args.code)
        settings = await _settings(session)
        print(await petition_cards.card(session, petition, settings, app.settings.timezone,
                                        petition_cards.Viewer(shell=True)))
        print("---")
        for event in await service.timeline(session, petition.id):
            print(f"{event.at:%Y-%m-%d %H:%M} UTC  {event.kind:<7} {event.status or '':<11} "
                  f"{event.actor}  {event.note or ''}")
        if petition.answer:
            print(f"--- answer ---\n{petition.answer}")
    return 0


async def cmd_identity(app: App, args: argparse.Namespace, actor: str) -> int:
    """A denouncer's or complainant's identity, for a staff member with the investigator role."""
    await app.prepare()
    channel, _, user_id = args.investigator.partition(":")
    async with app.db.session() as session:
        petition = await _petition(session, args.code)
        roles = await roles_of(session, channel, user_id)
        try:
            if not roles & {"staff", "admin", "investigator"}:
                raise PetitionError("role", f"{args.investigator} holds no staff role")
            identity = await service.identity_of(session, petition, roles)
        except PetitionError:
            refusals.record(session, f"identity {petition.code}",
                            actor=f"{actor} as {args.investigator}")
            await session.commit()
            raise
        InteractionLogs(session).append(InteractionLog(
            channel=channel[:20] or "cli", direction="admin", kind="identity_viewed",
            text=petition.code, actor=f"{actor} as {args.investigator}"[:120]))
        await session.commit()
    if identity is None:
        print("no identity is kept for this petition")
    else:
        print(f"{identity.full_name}\n{identity.address}\n{identity.phone or '-'}")
    return 0


async def cmd_status(app: App, args: argparse.Namespace, actor: str) -> int:
    """Change the status (the resident is told)."""
    await app.prepare()
    async with app.db.session() as session:
        petition = await _petition(session, args.code)
        await service.change_status(session, petition, args.status, actor=actor,
                                    now=clock.now(), timezone=app.settings.timezone,
                                    settings=await _settings(session), reason=args.reason)
        await session.commit()
        print(f"{petition.code} is now {petition.status}; answer due {petition.answer_due}")
    return 0


def _answer_material(args: argparse.Namespace) -> tuple[str, list[dict]]:
    """The answer's text (given or from a file) and the documents sent with it."""
    text = args.text or ""
    if args.text_file:
        try:
            text = Path(args.text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PetitionError("file", f"cannot read {args.text_file}: {exc}") from None
    files = []
    for name in args.file or ():
        path = Path(name)
        if not path.is_file():
            raise PetitionError("file", f"no such file: {name}")
        files.append({"kind": "document", "ref": str(path.resolve()), "name": path.name,
                      "size": path.stat().st_size})
    return text, files


async def cmd_answer(app: App, args: argparse.Namespace, actor: str) -> int:
    """Give the official answer (the resident gets it on their channel)."""
    text, files = _answer_material(args)
    await app.prepare()
    async with app.db.session() as session:
        petition = await _petition(session, args.code)
        await service.answer(session, petition, text, actor=actor, now=clock.now(),
                             timezone=app.settings.timezone, files=files)
        await session.commit()
        print(f"{petition.code} answered; the resident will be told")
    return 0


async def cmd_assign(app: App, args: argparse.Namespace, actor: str) -> int:
    """Give the petition to a staff member."""
    await app.prepare()
    async with app.db.session() as session:
        petition = await _petition(session, args.code)
        await service.assign(session, petition, args.to, actor=actor, now=clock.now())
        await session.commit()
    print(f"{args.code.upper()} assigned to {args.to}")
    return 0


async def cmd_flag(app: App, args: argparse.Namespace, actor: str) -> int:
    """Mark complex or remote-area (longer legal periods)."""
    await app.prepare()
    async with app.db.session() as session:
        petition = await _petition(session, args.code)
        await service.set_flags(session, petition, actor=actor, now=clock.now(),
                                timezone=app.settings.timezone,
                                settings=await _settings(session), complex_case=args.complex,
                                remote=args.remote)
        await session.commit()
        print(f"{petition.code}: complex={petition.complex_case} remote={petition.remote_area}"
              f"; answer due {petition.answer_due}")
    return 0


def register(sub: argparse._SubParsersAction, run: object) -> None:
    """Add the `petition` subcommand; `run` wraps each command with the shell's actor."""
    petition = sub.add_parser("petition", help="handle petitions (list, show, status, answer…)")
    actions = petition.add_subparsers(dest="action", required=True)

    listing = actions.add_parser("list", help="petitions by due date")
    listing.add_argument("--status", action="append", choices=sorted(TRANSITIONS))
    when = listing.add_mutually_exclusive_group()
    when.add_argument("--overdue", action="store_true", help="open and past the due date")
    when.add_argument("--due-soon", action="store_true", help="open, due within 2 working days")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(func=run(cmd_list))

    show = actions.add_parser("show", help="one petition and its timeline")
    show.add_argument("code")
    show.set_defaults(func=run(cmd_show))

    identity = actions.add_parser("identity", help="who filed (denunciations: investigators)")
    identity.add_argument("code")
    identity.add_argument("--investigator", required=True, metavar="CHANNEL:USER_ID",
                          help="the staff identity asking, e.g. telegram:123456")
    identity.set_defaults(func=run(cmd_identity))

    status = actions.add_parser("status", help="change the status")
    status.add_argument("code")
    status.add_argument("status", choices=sorted(TRANSITIONS))
    status.add_argument("--reason", help="required for forwarded, refused, reopened")
    status.set_defaults(func=run(cmd_status))

    answer = actions.add_parser("answer", help="give the official answer")
    answer.add_argument("code")
    text = answer.add_mutually_exclusive_group(required=True)
    text.add_argument("--text")
    text.add_argument("--text-file")
    answer.add_argument("--file", action="append", help="a document to send with the answer")
    answer.set_defaults(func=run(cmd_answer))

    assign = actions.add_parser("assign", help="give the petition to a staff member")
    assign.add_argument("code")
    assign.add_argument("--to", required=True)
    assign.set_defaults(func=run(cmd_assign))

    flag = actions.add_parser("flag", help="complex case or remote area (longer periods)")
    flag.add_argument("code")
    flag.add_argument("--complex", action=argparse.BooleanOptionalAction, default=None)
    flag.add_argument("--remote", action=argparse.BooleanOptionalAction, default=None)
    flag.set_defaults(func=run(cmd_flag))
