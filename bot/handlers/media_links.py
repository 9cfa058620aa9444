"""Links to files of the data folder for channels that take files by URL (Zalo).

A link carries no server path and expires: the file's path inside the data folder is
encrypted (HMAC-SHA256 in counter mode as the key stream, a fresh random nonce per link),
an HMAC over the expiry, the nonce and the ciphertext makes it unforgeable, and it works for
LIFETIME (7 days: long enough to open a ticket or an answer from its notice, short enough
that a forwarded or leaked link dies). Only the file's extension is visible.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

LIFETIME = timedelta(days=7)
_NONCE, _EXPIRY, _TAG = 12, 5, 16


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.new(key, b"civicbot-media-link:" + purpose, hashlib.sha256).digest()


def _stream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(_derive(key, b"enc"), nonce + n.to_bytes(4, "big"),
                       hashlib.sha256).digest() for n in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def _tag(key: bytes, body: bytes) -> bytes:
    return hmac.new(_derive(key, b"mac"), body, hashlib.sha256).digest()[:_TAG]


def make(key: bytes, relative: str, now: datetime) -> str:
    """The token for a path inside the data folder, valid until now + LIFETIME."""
    expires = int((now + LIFETIME).timestamp()).to_bytes(_EXPIRY, "big")
    nonce = secrets.token_bytes(_NONCE)
    plain = relative.encode()
    body = expires + nonce + bytes(a ^ b for a, b in zip(plain, _stream(key, nonce, len(plain)),
                                                         strict=True))
    return base64.urlsafe_b64encode(body + _tag(key, body)).rstrip(b"=").decode()


def read(key: bytes, token: str, now: datetime) -> str | None:
    """The path a token stands for, or None when it is forged, damaged or expired."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    body, tag = raw[:-_TAG], raw[-_TAG:]
    if len(body) <= _EXPIRY + _NONCE or not hmac.compare_digest(tag, _tag(key, body)):
        return None
    expires = datetime.fromtimestamp(int.from_bytes(body[:_EXPIRY], "big"), UTC)
    if now >= expires:
        return None
    nonce, cipher = body[_EXPIRY:_EXPIRY + _NONCE], body[_EXPIRY + _NONCE:]
    plain = bytes(a ^ b for a, b in zip(cipher, _stream(key, nonce, len(cipher)), strict=True))
    try:
        return plain.decode()
    except UnicodeDecodeError:
        return None
