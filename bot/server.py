"""`python -m bot run` with a channel configured: channels, HTTP server, dispatcher, scheduler.

All share one event loop and stop cleanly on SIGTERM/SIGINT, in at most SHUTDOWN_SECONDS:
no new updates are taken (the HTTP server and polling stop), the dispatcher finishes the
message in hand and hands its other claims back, the turns in hand finish; what is still
unfinished at the bound is cancelled (its updates stay stored and are processed again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import SecretStr

from bot import open311_web, public_page, web_desk
from bot.app import App
from bot.config import Settings
from bot.handlers.flood import FloodControl
from bot.web import build_web_app
from storage import clock

if TYPE_CHECKING:
    from bot.handlers.zalo_oa_runtime import ZaloOARuntime

log = logging.getLogger(__name__)
SHUTDOWN_SECONDS = 30  # from the signal to the end of serve()


class ChannelStartError(RuntimeError):
    """A configured channel could not start; the message never holds a secret."""


async def serve(app: App, stop: asyncio.Event | None = None) -> None:
    """Run every configured channel until `stop` is set (or a termination signal comes)."""
    from bot.handlers.telegram_runtime import TelegramRuntime  # PTB only when serving

    settings = app.settings
    stop = stop or _stop_on_signals()
    await app.prepare()
    runtimes = []
    if settings.telegram_bot_token:
        secret = settings.telegram_webhook_secret
        runtimes.append(TelegramRuntime(
            app.engine, app.db, token=settings.telegram_bot_token.get_secret_value(),
            api_url=settings.telegram_api_url, webhook_url=settings.telegram_webhook_url,
            webhook_secret=secret.get_secret_value() if secret else None,
            data_dir=settings.data_dir, default_locale=settings.default_locale,
            lease=settings.inbound_lease_seconds,
            flood=_flood(settings),
        ))
    if settings.zalo_bot_token:
        from bot.handlers.zalo_runtime import ZaloRuntime

        secret = settings.zalo_webhook_secret
        try:
            runtimes.append(ZaloRuntime(
                app.engine, app.db, token=settings.zalo_bot_token.get_secret_value(),
                api_url=settings.zalo_api_url, webhook_url=settings.zalo_webhook_url,
                webhook_secret=secret.get_secret_value() if secret else None,
                public_base_url=settings.public_base_url, data_dir=settings.data_dir,
                groups=settings.zalo_groups, default_locale=settings.default_locale,
                lease=settings.inbound_lease_seconds,
                flood=_flood(settings),
            ))
        except ValueError as exc:  # a setting missing; the message names it, no secret
            raise ChannelStartError(f"zalo: {exc}") from None
    if "zalo_oa" in settings.channels_configured:
        runtimes.append(_zalo_oa(app))
    for runtime in runtimes:
        try:
            await runtime.start()
        except Exception as exc:
            with contextlib.suppress(Exception):
                await runtime.stop()
            if isinstance(exc, ChannelStartError):  # its message is safe to show
                raise
            # PTB's messages can quote the token; name the failure only.
            raise ChannelStartError(
                f"{runtime.channel.name} could not start ({type(exc).__name__}); check the "
                "token, the API URL and the network") from None
        app.dispatcher.register(runtime.channel)
    routes = [route for r in runtimes for route in r.routes()]
    if settings.public_page:
        routes += public_page.routes(app.db, timezone=settings.timezone,
                                     data_dir=settings.data_dir,
                                     default_locale=settings.default_locale)
    if settings.web_desk:
        routes += web_desk.routes(app.db, timezone=settings.timezone, data_dir=settings.data_dir,
                                  key=app.engine.pseudonym_key, base_url=settings.web_base_url,
                                  default_locale=settings.default_locale)
    web_app = build_web_app(app.db, lambda: {r.channel.name: r.up for r in runtimes}, routes)
    if settings.open311:
        open311_web.mount(web_app, app.db, settings.timezone, settings.default_locale,
                          clock.now)
    # No access log: it would show webhook paths. Webhook answers take milliseconds.
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    app.start_background()
    log.warning("civicbot: serving %s; HTTP on %s:%s", ", ".join(settings.channels_configured),
                settings.http_host, settings.http_port)
    try:
        await stop.wait()
    finally:
        log.warning("civicbot: stopping")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_SECONDS):
                await runner.cleanup()
                await app.stop_background()
                for runtime in runtimes:
                    with contextlib.suppress(Exception):
                        await runtime.stop()


def _zalo_oa(app: App) -> ZaloOARuntime:
    """The Zalo OA runtime from the settings."""
    from bot.handlers.zalo_oa_runtime import ZaloOARuntime

    settings = app.settings

    def secret(value: SecretStr | None) -> str | None:
        return value.get_secret_value() if value else None

    try:
        return ZaloOARuntime(
            app.engine, app.db, app_id=settings.zalo_oa_app_id or "",
            secret_key=secret(settings.zalo_oa_secret_key) or "",
            app_secret=secret(settings.zalo_oa_app_secret) or "",
            access_token=secret(settings.zalo_oa_access_token),
            refresh_token=secret(settings.zalo_oa_refresh_token),
            data_dir=settings.data_dir,
            api_url=settings.zalo_oa_api_url, oauth_url=settings.zalo_oa_oauth_url,
            lease=settings.inbound_lease_seconds,
            default_locale=settings.default_locale, flood=_flood(settings),
        )
    except ValueError as exc:
        raise ChannelStartError(f"zalo_oa: {exc}") from None


def _flood(settings: Settings) -> FloodControl:
    """Each channel's per-person flood control from the settings."""
    return FloodControl(burst=settings.flood_burst, rate=settings.flood_rate)


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop
