"""`python -m bot zalo-oa authorize|callback|status`: connect the commune's Zalo Official Account.

`authorize --redirect-uri URL` prints the OAuth v4 (PKCE) link for the OA admin and keeps
its state and code verifier; after consent Zalo sends the browser to URL?code=…&state=…;
`callback --code CODE [--state STATE]` exchanges the code and stores the token pair;
`status` says whether a pair is stored and when it expires (never the tokens).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App
    from bot.handlers.zalo_oa_tokens import TokenStore


def _store(app: App) -> TokenStore:
    from bot.handlers.zalo_oa_client import ZaloOAuth
    from bot.handlers.zalo_oa_tokens import TokenStore

    settings = app.settings
    if not (settings.zalo_oa_app_id and settings.zalo_oa_app_secret):
        raise SystemExit("error: set ZALO_OA_APP_ID and ZALO_OA_APP_SECRET first")
    auth = ZaloOAuth(settings.zalo_oa_app_id, settings.zalo_oa_app_secret.get_secret_value(),
                     settings.zalo_oa_oauth_url)
    return TokenStore(app.db, auth)


async def cmd_authorize(app: App, args: argparse.Namespace) -> int:
    """Print the consent link for the OA admin."""
    tokens = _store(app)
    await app.prepare()
    link = await tokens.begin_authorization(args.redirect_uri, app.settings.zalo_oa_oauth_url)
    await tokens.auth.close()
    print("Open this link as the OA admin and allow access:")
    print(link)
    print("Then run: python -m bot zalo-oa callback --code CODE --state STATE "
          "(both from the address Zalo sends you to)")
    return 0


async def cmd_callback(app: App, args: argparse.Namespace) -> int:
    """Exchange the callback's code for the token pair and store it."""
    from bot.handlers.zalo_oa_client import ZaloOAError

    tokens = _store(app)
    await app.prepare()
    try:
        await tokens.finish_authorization(args.code.strip(), args.state)
    except ZaloOAError as exc:
        raise SystemExit(f"error: {exc}") from None
    finally:
        await tokens.auth.close()
    print("Zalo OA tokens stored; `python -m bot run` uses them and refreshes them.")
    return 0


async def cmd_status(app: App, args: argparse.Namespace) -> int:
    """Whether a token pair is stored, its expiry and how often it was refreshed."""
    from storage.models import ZaloOAToken

    await app.prepare()
    async with app.db.session() as session:
        row = await session.get(ZaloOAToken, app.settings.zalo_oa_app_id or "")
    if row is None or not row.refresh_token:
        pending = " (an authorisation is pending)" if row and row.code_verifier else ""
        print(f"no Zalo OA token pair stored{pending}")
        return 1
    expiry = row.expires_at.strftime("%Y-%m-%d %H:%M UTC") if row.expires_at else "unknown"
    print(f"Zalo OA token pair stored; access token expires {expiry}; "
          f"refreshed {row.refreshes} time(s)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `zalo-oa` and its subcommands."""
    top = sub.add_parser("zalo-oa", help="connect the Zalo Official Account (OAuth)")
    actions = top.add_subparsers(dest="action", required=True)
    authorize = actions.add_parser("authorize", help="print the OAuth v4 consent link")
    authorize.add_argument("--redirect-uri", required=True,
                           help="the callback URL registered for the app on developers.zalo.me")
    authorize.set_defaults(func=cmd_authorize)
    callback = actions.add_parser("callback", help="store the tokens from the callback's code")
    callback.add_argument("--code", required=True, help="the `code` of the callback address")
    callback.add_argument("--state", help="the `state` of the callback address (checked)")
    callback.set_defaults(func=cmd_callback)
    actions.add_parser("status", help="is a token pair stored, and until when").set_defaults(
        func=cmd_status)
