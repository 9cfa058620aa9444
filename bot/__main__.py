"""Command line (`civicbot` or `python -m bot`): run, chat, init, demo, role, db, group,
disclosure, report, petition, session, broadcast, export, log, api-key, web, backup,
restore, doctor.

Errors print one clear line and exit non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError

from bot import (
    cli_accountability,
    cli_api_keys,
    cli_broadcasts,
    cli_disclosures,
    cli_ops,
    cli_petitions,
    cli_sessions,
    cli_web,
    cli_zalo_oa,
)
from bot.app import App, build, cli_actor
from bot.config import Settings
from bot.handlers import console
from bot.i18n import CatalogMissing
from bot.pseudonym import KeyMismatch
from bot.services import api_keys, commune_setup, groups, roles
from bot.services.backup import BackupError
from bot.services.broadcasts import BroadcastError
from bot.services.disclosures import DisclosureError
from bot.services.exports import ExportError
from bot.services.petitions import PetitionError
from bot.services.sessions import SessionError
from bot.services.yearly_report import ReportError
from storage import clock
from storage.repositories import Communes


async def cmd_run(app: App, args: argparse.Namespace) -> int:
    """Start every configured channel; with none, the console chat on the demo commune."""
    configured = app.settings.channels_configured
    if missing := [name for name in configured if name not in ("telegram", "zalo", "zalo_oa")]:
        raise SystemExit(
            f"error: {', '.join(missing)} configured, but this version has no such channel "
            "yet; unset the token"
        )
    if configured:
        from bot import server

        try:
            await server.serve(app)
        except server.ChannelStartError as exc:
            raise SystemExit(f"error: {exc}") from None
        return 0
    await app.prepare(demo=True)
    print("civicbot: console chat with the demo commune (Ctrl-D to quit)", file=sys.stderr)
    app.start_background(deliver=False)  # the chat delivers the console user's messages
    await console.chat(app.engine, "demo", dispatcher=app.dispatcher)
    return 0


async def cmd_chat(app: App, args: argparse.Namespace) -> int:
    """Chat in the terminal as one console user."""
    await app.prepare(demo=True)
    await console.chat(app.engine, args.user, dispatcher=app.dispatcher)
    return 0


async def cmd_init(app: App, args: argparse.Namespace) -> int:
    """Create or update the commune from its TOML file."""
    if (args.file is None) == (not args.demo):
        raise commune_setup.CommuneFileError("give a commune file or --demo, not both")
    spec = commune_setup.read(commune_setup.DEMO_FILE if args.demo else Path(args.file))
    await app.prepare()
    async with app.db.session() as session:
        counts = await commune_setup.apply(session, spec, cli_actor(),
                                           pseudonym_key=app.engine.pseudonym_key)
        await session.commit()
    print(f"{spec.commune['name']}: {counts['hamlets']} hamlets ({counts['retired']} retired), "
          f"{counts['grants']} new role grants")
    return 0


async def cmd_demo(app: App, args: argparse.Namespace) -> int:
    """Load the demo commune into an empty database; with --reset, reload a demo database."""
    await app.prepare()
    now, timezone, actor = clock.now(), app.settings.timezone, cli_actor()
    async with app.db.unit_of_work() as session:
        if args.reset:
            counts = await commune_setup.reload_demo(session, actor, timezone, now=now)
        elif not await commune_setup.load_demo_if_empty(session, actor, timezone, now=now):
            held = await Communes(session).current()
            hint = ("; --reset reloads it dated from today" if await commune_setup.holds_demo(
                session) else ", not the demo: nothing changed")
            print(f"{held.name} is already loaded{hint}")
            return 0
        else:
            counts = None
        await session.commit()
    done = (f"reloaded: {counts['disclosures']} disclosures, {counts['sessions']} dialogue "
            "sessions" if counts else "loaded")
    print(f"demo commune {done}, dated from {clock.today(timezone)}")
    return 0


async def cmd_role(app: App, args: argparse.Namespace) -> int:
    """Grant or revoke a role."""
    await app.prepare()
    async with app.db.session() as session:
        if args.action == "grant":
            count = await roles.grant(session, args.channel, args.user_id, args.role,
                                      args.hamlet or (), actor=cli_actor(), name=args.name,
                                      key=app.engine.pseudonym_key)
        else:
            count = await roles.revoke(session, args.channel, args.user_id, args.role,
                                       args.hamlet or (), actor=cli_actor(),
                                       key=app.engine.pseudonym_key)
        await session.commit()
    verb = "granted" if args.action == "grant" else "revoked"
    print(f"{args.role} {verb} for {args.channel}:{args.user_id} ({count} change(s))")
    return 0


async def cmd_group(app: App, args: argparse.Namespace) -> int:
    """Link, unlink or list group chats (the staff chat, hamlet groups)."""
    await app.prepare()
    async with app.db.session() as session:
        if args.action == "link":
            row = await groups.link(session, args.channel, args.chat_id, staff=args.staff,
                                    hamlet=args.hamlet, title=args.title, actor=cli_actor())
            target = "the staff chat" if args.staff else f"hamlet {args.hamlet}"
            print(f"{row.channel}:{row.chat_id} linked as {target}")
        elif args.action == "unlink":
            if not await groups.unlink(session, args.channel, args.chat_id, actor=cli_actor()):
                raise groups.GroupError(f"{args.channel}:{args.chat_id} is not linked")
            print(f"{args.channel}:{args.chat_id} unlinked")
        else:
            links = await groups.all_links(session)
            for row, hamlet in links:
                what = "staff" if row.kind == groups.STAFF else f"hamlet {hamlet.code}"
                print(f"{row.channel}\t{row.chat_id}\t{what}\t{row.title or ''}".rstrip())
            if not links:
                print("no group chat is linked")
        await session.commit()
    return 0


async def cmd_db(app: App, args: argparse.Namespace) -> int:
    """Upgrade the schema to the newest migration."""
    await app.db.upgrade()
    print("database schema is up to date")
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    top = argparse.ArgumentParser(prog="civicbot", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the bot (console chat on demo data when no token is set)"
                   ).set_defaults(func=cmd_run)
    chat = sub.add_parser("chat", help="chat in the terminal as one console user")
    chat.add_argument("--user", default="demo", help="console user id (default: demo)")
    chat.set_defaults(func=cmd_chat)
    init = sub.add_parser("init", help="create or update the commune from a TOML file")
    init.add_argument("file", nargs="?", help="the commune's TOML file")
    init.add_argument("--demo", action="store_true",
                      help="use the demo commune shipped with civicbot (Xã Chi Lăng)")
    init.set_defaults(func=cmd_init)
    demo = sub.add_parser("demo", help="load the demo commune (dated from today) into an "
                          "empty database")
    demo.add_argument("--reset", action="store_true",
                      help="empty a demo database and load the demo again, dated from today")
    demo.set_defaults(func=cmd_demo)
    role = sub.add_parser("role", help="grant or revoke a role")
    role.add_argument("action", choices=("grant", "revoke"))
    role.add_argument("--channel", required=True, choices=roles.CHANNELS)
    role.add_argument("--user-id", required=True)
    role.add_argument("--role", required=True, choices=roles.ROLES)
    role.add_argument("--hamlet", action="append", help="hamlet code or name (repeatable)")
    role.add_argument("--name", help="the name colleagues see in the chat (grant only)")
    role.set_defaults(func=cmd_role)
    group = sub.add_parser("group", help="link group chats: the staff chat, hamlet groups")
    group_sub = group.add_subparsers(dest="action", required=True)
    link = group_sub.add_parser("link", help="link a chat to a hamlet or make it the staff chat")
    link.add_argument("--chat-id", required=True, help="the group's chat id, e.g. -100123")
    target = link.add_mutually_exclusive_group(required=True)
    target.add_argument("--staff", action="store_true", help="make it the staff chat")
    target.add_argument("--hamlet", help="hamlet code from the commune file")
    link.add_argument("--title", help="a name to recognise the chat by in `group list`")
    unlink = group_sub.add_parser("unlink", help="forget a chat's link")
    unlink.add_argument("--chat-id", required=True)
    for sub_parser in (link, unlink):
        sub_parser.add_argument("--channel", default="telegram", choices=roles.CHANNELS)
    group_sub.add_parser("list", help="list linked chats")
    group.set_defaults(func=cmd_group)
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=("upgrade",))
    db.set_defaults(func=cmd_db)
    reports = cli_disclosures.register(sub, _as_cli_actor)
    cli_petitions.register(sub, _as_cli_actor)
    cli_sessions.register(sub, _as_cli_actor)
    cli_broadcasts.register(sub, _as_cli_actor)
    cli_accountability.register(sub, _as_cli_actor, reports)
    cli_zalo_oa.register(sub)
    cli_api_keys.register(sub, _as_cli_actor)
    cli_web.register(sub, _as_cli_actor)
    cli_ops.register(sub)
    return top


def _as_cli_actor(command: Callable[[App, argparse.Namespace, str], Awaitable[int]]
                  ) -> Callable[[App, argparse.Namespace], Awaitable[int]]:
    """Run a staff command as the operator at the shell."""
    return lambda app, args: command(app, args, cli_actor())


async def _main(func: Callable[[App, argparse.Namespace], Awaitable[int]],
                args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "settings_only", False):  # backup, restore, doctor: no app to build
        return await func(settings, args)  # type: ignore[arg-type]
    app = build(settings)
    try:
        return await func(app, args)
    finally:
        await app.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bot`."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
        return asyncio.run(_main(args.func, args, settings))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]).upper() if first["loc"] else "settings"
        print(f"error: {field}: {first['msg']}", file=sys.stderr)
    except (commune_setup.CommuneFileError, roles.RoleError, groups.GroupError,
            CatalogMissing, DisclosureError, PetitionError, SessionError,
            ExportError, BroadcastError, ReportError, commune_setup.DemoError,
            api_keys.ApiKeyError, KeyMismatch, BackupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1


def run_cli() -> None:
    """Entry point of the `civicbot` console script (the same as `python -m bot`)."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
