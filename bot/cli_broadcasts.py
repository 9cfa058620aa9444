"""`python -m bot broadcast send|list|show|cancel|pause|resume`: notices from the shell.

`send --hamlet H (repeatable) | --all --text T [--at "YYYY-MM-DD HH:MM"] [--every CRON]
[--audience groups|residents|both] [--urgent]`. Times are local; CRON is a five-field
crontab line ("0 7 * * 1" = every Monday 07:00, "0 8 1 * *" = the 1st of each month).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.services import broadcasts
from bot.services.broadcasts import BroadcastError
from bot.services.roles import RoleError, hamlet_ids
from storage import clock
from storage.models import Broadcast

if TYPE_CHECKING:
    from bot.app import App


def _moment(text: str) -> str:
    try:
        datetime.strptime(text, "%Y-%m-%d %H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time like 2026-12-20 07:00") \
            from None
    return text


async def cmd_send(app: App, args: argparse.Namespace, actor: str) -> int:
    """Schedule (or send now) a broadcast."""
    tz = app.settings.timezone
    send_at = (datetime.strptime(args.at, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(tz))
               if args.at else None)
    await app.prepare()
    async with app.db.session() as session:
        try:
            ids = await hamlet_ids(session, args.hamlet or ())
        except RoleError as exc:
            raise BroadcastError(str(exc)) from None
        item = await broadcasts.create(
            session, text=args.text, hamlet_ids=ids, audience=args.audience, actor=actor,
            now=clock.now(), timezone=tz, send_at=send_at, cron=args.every, urgent=args.urgent)
        await session.commit()
        when = item.next_run_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    repeat = f", then on '{args.every}'" if args.every else ""
    print(f"broadcast {item.id} scheduled for {when}{repeat}")
    return 0


async def cmd_list(app: App, args: argparse.Namespace, actor: str) -> int:
    """The newest broadcasts with their delivery counts."""
    await app.prepare()
    tz = ZoneInfo(app.settings.timezone)
    async with app.db.session() as session:
        for item in await broadcasts.listing(session, args.limit):
            counts = await broadcasts.progress(session, item.id)
            when = item.next_run_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") \
                if item.next_run_at else "-"
            sent = counts.get("sent", 0)
            total = sum(counts.values())
            print(f"{item.id:>5}  {item.status:<9} next {when:<16} {item.cron or 'once':<14} "
                  f"sent {sent}/{total}  {item.text[:50]!r}")
    return 0


async def cmd_show(app: App, args: argparse.Namespace, actor: str) -> int:
    """One broadcast's deliveries by status."""
    await app.prepare()
    async with app.db.session() as session:
        item = await _get(session, args.id)
        counts = await broadcasts.progress(session, item.id)
    total = sum(counts.values())
    print(f"broadcast {item.id}: {item.status}, runs {item.runs}; sent {counts.get('sent', 0)}"
          f"/{total}; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


async def cmd_cancel(app: App, args: argparse.Namespace, actor: str) -> int:
    """Cancel: no more runs; unsent deliveries are cancelled."""
    await app.prepare()
    async with app.db.session() as session:
        item = await _get(session, args.id)
        count = await broadcasts.cancel(session, item, actor)
        await session.commit()
    print(f"broadcast {args.id} cancelled ({count} unsent deliveries cancelled)")
    return 0


async def cmd_pause(app: App, args: argparse.Namespace, actor: str) -> int:
    """Pause or resume a scheduled or recurring broadcast."""
    await app.prepare()
    resume = args.action == "resume"
    async with app.db.session() as session:
        item = await _get(session, args.id)
        await broadcasts.pause(session, item, actor, resume=resume, now=clock.now(),
                               timezone=app.settings.timezone)
        await session.commit()
    print(f"broadcast {args.id} {'resumed' if resume else 'paused'}")
    return 0


async def _get(session, broadcast_id: int) -> Broadcast:
    item = await session.get(Broadcast, broadcast_id)
    if item is None:
        raise BroadcastError(f"no broadcast {broadcast_id}")
    return item


def register(sub: argparse._SubParsersAction, run: object) -> None:
    """Add the `broadcast` subcommand."""
    broadcast = sub.add_parser("broadcast", help="notices to hamlet groups and residents")
    actions = broadcast.add_subparsers(dest="action", required=True)
    send = actions.add_parser("send", help="send now, at a time, or on a schedule")
    where = send.add_mutually_exclusive_group(required=True)
    where.add_argument("--hamlet", action="append", help="hamlet code or name (repeatable)")
    where.add_argument("--all", action="store_true", help="every hamlet")
    send.add_argument("--text", required=True)
    send.add_argument("--at", type=_moment, help='local time "YYYY-MM-DD HH:MM" (default now)')
    send.add_argument("--every", metavar="CRON", help='crontab line, e.g. "0 7 * * 1"')
    send.add_argument("--audience", choices=broadcasts.AUDIENCES, default="both")
    send.add_argument("--urgent", action="store_true",
                      help="also during the quiet hours (21:00-06:30) in private chats")
    send.set_defaults(func=run(cmd_send))
    listing = actions.add_parser("list", help="the newest broadcasts")
    listing.add_argument("--limit", type=int, default=30)
    listing.set_defaults(func=run(cmd_list))
    for name, func, text in (("show", cmd_show, "deliveries by status"),
                             ("cancel", cmd_cancel, "stop it"),
                             ("pause", cmd_pause, "pause a scheduled or recurring one"),
                             ("resume", cmd_pause, "resume a paused one")):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", type=int)
        action.set_defaults(func=run(func))
