"""Files people send, kept in the data folder when the channel gives only a link.

Zalo hands photos and voice notes over as links to its servers, and does not say how long
they stay there; a petition's evidence must outlive them. `keep` downloads each such
attachment (up to the size limit) into DATA_DIR/received/CHANNEL/YYYY-MM/ and makes the
attachment refer to that file; the rest of the bot sends and exports local files already.
A download that fails keeps the link (and says so in the log, without the link).
"""

from __future__ import annotations

import dataclasses
import logging
import mimetypes
import secrets
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bot.messages import Attachment, Inbound
from storage import clock

log = logging.getLogger(__name__)
MAX_BYTES = 20 * 1024 * 1024  # what Telegram lets bots download, and the petition limit
TIMEOUT = aiohttp.ClientTimeout(total=30)
FOLDER = "received"


class ReceivedFiles:
    """A channel's downloads of linked attachments into `data_dir` (nothing without one)."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self._http: aiohttp.ClientSession | None = None  # opened on the first download

    async def keep(self, inbound: Inbound) -> Inbound:
        """The inbound with its linked attachments stored locally (see module docstring)."""
        if self.data_dir is None or not inbound.attachments:
            return inbound
        self._http = self._http or aiohttp.ClientSession()
        return await keep(self._http, inbound, self.data_dir, clock.now())

    async def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        if self._http is not None:
            await self._http.close()
            self._http = None


async def keep(http: aiohttp.ClientSession, inbound: Inbound, data_dir: Path,
               now: datetime) -> Inbound:
    """The inbound with its linked attachments downloaded (refs become relative paths)."""
    if not any(_is_link(a.ref) for a in inbound.attachments):
        return inbound
    kept = []
    for attachment in inbound.attachments:
        if _is_link(attachment.ref):
            attachment = await _download(http, attachment, inbound.channel, data_dir, now)
        kept.append(attachment)
    return dataclasses.replace(inbound, attachments=tuple(kept))


def _is_link(ref: str) -> bool:
    return ref.startswith(("https://", "http://"))


async def _download(http: aiohttp.ClientSession, attachment: Attachment, channel: str,
                    data_dir: Path, now: datetime) -> Attachment:
    folder = Path(FOLDER) / channel / f"{now:%Y-%m}"
    try:
        suffix = Path(urlsplit(attachment.ref).path).suffix.lower()[:10]  # ValueError: bad URL
        suffix = suffix if suffix[1:].isascii() and suffix[1:].isalnum() else ""
        async with http.get(attachment.ref, timeout=TIMEOUT) as response:
            response.raise_for_status()
            if (response.content_length or 0) > MAX_BYTES:
                raise ValueError("larger than the limit")
            body = await response.content.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise ValueError("larger than the limit")
            mime = response.content_type or attachment.mime_type
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("%s: a %s could not be downloaded (%s); its link is kept", channel,
                    attachment.kind, type(exc).__name__)
        return attachment
    suffix = suffix or mimetypes.guess_extension(mime or "") or ""
    relative = folder / f"{secrets.token_hex(8)}{suffix}"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    return dataclasses.replace(attachment, ref=relative.as_posix(), mime_type=mime,
                               size=len(body))
