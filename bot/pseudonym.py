"""Stable pseudonymous user references: a keyed hash of channel and user id.

The key comes from PSEUDONYM_KEY or, when unset, from a file generated once in the data
folder; without the key nobody can tell who a reference belongs to.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from pathlib import Path

KEY_FILE = "pseudonym.key"


@functools.lru_cache(maxsize=8192)
def user_ref(key: bytes, channel: str, user_id: str) -> str:
    """20 hex characters that always stand for the same (channel, user id)."""
    digest = hmac.new(key, f"{channel}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:20]


def load_or_create_key(configured: str | None, data_dir: Path) -> bytes:
    """The configured key, else the key file in the data folder (created on first start)."""
    if configured:
        return configured.encode()
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip().encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key.encode()
