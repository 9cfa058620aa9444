"""Stable pseudonymous user references: a keyed hash of channel and user id.

The key comes from PSEUDONYM_KEY or, when unset, from a file generated once in the data
folder; without the key nobody can tell who a reference belongs to. Every process of an
installation must use the same key: the database keeps the key's fingerprint (a keyed
hash that reveals nothing of it), and a process with another key refuses to start.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DeploymentFact

KEY_FILE = "pseudonym.key"
FINGERPRINT = "pseudonym_key_fingerprint"


class KeyMismatch(RuntimeError):
    """This process's pseudonym key is not the one the database was started with."""


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


def fingerprint(key: bytes) -> str:
    """16 hex characters that tell keys apart without revealing them."""
    return hmac.new(key, b"civicbot pseudonym key fingerprint", hashlib.sha256).hexdigest()[:16]


async def check_key(session: AsyncSession, key: bytes) -> None:
    """Record the key's fingerprint on first start; raise KeyMismatch when it differs."""
    dialect = session.bind.dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(DeploymentFact)
    await session.exec(insert.values(name=FINGERPRINT, value=fingerprint(key))
                       .on_conflict_do_nothing(index_elements=["name"]))
    stored = await session.get(DeploymentFact, FINGERPRINT)
    if stored is not None and stored.value != fingerprint(key):
        raise KeyMismatch(
            "the pseudonym key of this process is not the one this database was started "
            f"with (fingerprint {fingerprint(key)}, the database has {stored.value}). Every "
            "process must use the same key: set PSEUDONYM_KEY, or copy pseudonym.key from "
            "the data folder of the first host. Refusing to start: with another key the "
            "interaction log would look edited and residents would be counted twice.")
