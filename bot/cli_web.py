"""`python -m bot web link --identity CHANNEL:USER_ID`: a one-time sign-in link to the staff
web desk for a staff identity, printed for the operator (staff get theirs with /web)."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.services import web_access
from bot.services.roles import RoleError
from storage import clock

if TYPE_CHECKING:
    from bot.app import App

Command = Callable[["App", argparse.Namespace, str], Awaitable[int]]


async def cmd_link(app: App, args: argparse.Namespace, actor: str) -> int:
    """Print a link good once, for ten minutes."""
    channel, _, user_id = args.identity.partition(":")
    if not channel or not user_id:
        raise RoleError("--identity must look like telegram:123456789")
    await app.prepare()
    async with app.db.session() as session:
        try:
            token = await web_access.issue_link(session, channel, user_id, clock.now())
        except web_access.AccessError:
            raise RoleError(f"{args.identity} holds no staff or admin role") from None
        await session.commit()
    print(web_access.link_url(app.settings.web_base_url, token))
    print(f"good once, for {web_access.LINK_MINUTES} minutes; give it only to that person")
    return 0


def register(sub: argparse._SubParsersAction,
             run: Callable[[Command], Callable[..., Awaitable[int]]]) -> None:
    """Add `web link`."""
    web = sub.add_parser("web", help="the staff web desk")
    actions = web.add_subparsers(dest="action", required=True)
    link = actions.add_parser("link", help="print a one-time sign-in link for a staff identity")
    link.add_argument("--identity", required=True, metavar="CHANNEL:USER_ID")
    link.set_defaults(func=run(cmd_link))
