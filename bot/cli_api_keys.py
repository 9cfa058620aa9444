"""`python -m bot api-key create|list|revoke`: the Open311 API keys of kiosks and partner
apps. A key is printed once at creation; only its hash is stored."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.services import api_keys
from storage import clock

if TYPE_CHECKING:
    from bot.app import App

Command = Callable[["App", argparse.Namespace, str], Awaitable[int]]


async def cmd_create(app: App, args: argparse.Namespace, actor: str) -> int:
    """Create a key for a named kiosk or app, as an admin."""
    await app.prepare()
    async with app.db.session() as session:
        row, secret = await api_keys.create(session, args.name, args.admin, actor=actor,
                                            now=clock.now())
        await session.commit()
    print(f"API key {row.id} for {row.name}: {secret}")
    print("Keep it now: it is not shown again. Clients send it as api_key.")
    return 0


async def cmd_list(app: App, args: argparse.Namespace, actor: str) -> int:
    """Every key: id, name, start of the key, uses, state."""
    await app.prepare()
    async with app.db.session() as session:
        rows = await api_keys.listing(session)
    for row in rows:
        state = (f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active")
        used = f"last used {row.last_used_at:%Y-%m-%d %H:%M} UTC" if row.last_used_at else \
            "never used"
        print(f"{row.id}\t{row.name}\t{row.prefix}…\t{row.uses} use(s), {used}\t{state}\t"
              f"created {row.created_at:%Y-%m-%d} by {row.created_by}")
    if not rows:
        print("no API key")
    return 0


async def cmd_revoke(app: App, args: argparse.Namespace, actor: str) -> int:
    """Revoke a key by its id."""
    await app.prepare()
    async with app.db.session() as session:
        row = await api_keys.revoke(session, args.id, actor=actor, now=clock.now())
        await session.commit()
    print(f"API key {row.id} ({row.name}) is revoked")
    return 0


def register(sub: argparse._SubParsersAction, as_actor: Callable[[Command], Callable]) -> None:
    """Add `api-key` and its subcommands."""
    top = sub.add_parser("api-key", help="Open311 API keys of kiosks and partner apps")
    actions = top.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key (printed once)")
    create.add_argument("--name", required=True, help='who uses it, e.g. "Kiosk UBND"')
    create.add_argument("--admin", required=True, metavar="CHANNEL:USER_ID",
                        help="the admin who asks for it, e.g. telegram:123")
    create.set_defaults(func=as_actor(cmd_create))
    actions.add_parser("list", help="list the keys").set_defaults(func=as_actor(cmd_list))
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=as_actor(cmd_revoke))
