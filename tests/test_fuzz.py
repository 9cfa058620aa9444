"""Fuzzing the webhooks: mutated payloads with correct secrets and signatures, seeded.

Every answer is 2xx or 4xx, never 5xx; processing logs no error (nothing raised: odd
values are ignored or answered); the valid events posted among them are all processed
and answered; nothing is left pending; the bot answers a normal message afterwards.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import random
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import InboundEvent
from tests import fake_zalo, fake_zalo_oa
from tests.fake_telegram import callback_update, message_update
from tests.fake_zalo_oa import APP_ID, SECRET_KEY
from tests.test_edge import oa, tg, zl  # noqa: F401 (fixtures)

PER_CHANNEL = 240  # mutated payloads per webhook
VALID_EVERY = 4  # one valid event among this many
ODD_VALUES = [
    None, True, False, -1, 0, 2**70, 1e308, float("inf"), float("nan"), "", "\x00", "\ud800",
    "\ufffe", "²", "#civic:go:relay:²", "go:disclosure:" + "9" * 20, "go:session:¹", "a" * 3000,
    {}, [], [[[]]], {"id": {}}, "http://[::1", "/start", "/start ²", "menu", "1", "😀" * 50,
    "Ổ gà\x00 lớn", [1, "x", None],
]

FIELDS = ["photo", "document", "voice", "text", "caption", "data", "chat", "from", "id",
          "message_id", "msg_id", "event_name", "attachments", "payload", "url", "size",
          "coordinates", "location", "contact", "reply_to_message", "sender", "file_id",
          "file_size", "photo_url", "voice_url", "name", "type", "chat_type"]


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*prefix, i))
    return found


def mutate(rng: random.Random, event: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    """The event with 1-3 random changes: a value replaced, a key removed or added (never the
    keys in `keep`, so most mutants still reach the bot's processing)."""
    event = copy.deepcopy(event)
    for _ in range(rng.randint(1, 3)):
        candidates = [p for p in _paths(event) if p and p[0] not in keep]
        if not candidates:
            break
        path = rng.choice(candidates)
        parent = event
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if action < 0.6:
            parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif action < 0.8 and isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:  # a field the channel knows, added to any object of the event
            objects = [p for p in _paths(event) if isinstance(_at(event, p), dict)]
            _at(event, rng.choice(objects))[rng.choice(FIELDS)] = copy.deepcopy(
                rng.choice(ODD_VALUES))
    return event


def _at(event: Any, path: tuple) -> Any:
    for step in path:
        event = event[step]
    return event


async def _fuzz(post: Callable, make_valid: Callable, make_base: Callable, keep: tuple[str, ...],
                seed: int) -> tuple[list[int], list[Any]]:
    """Post PER_CHANNEL payloads (every VALID_EVERY-th one valid); the statuses and the keys
    of the valid ones."""
    rng = random.Random(seed)
    statuses, valid = [], []
    for i in range(0, PER_CHANNEL, 8):
        bodies = []
        for k in range(i, i + 8):
            if k % VALID_EVERY == 0:
                event, key = make_valid(k)
                valid.append(key)
            else:
                event = mutate(rng, make_base(k), keep)
            bodies.append(event)
        statuses += await asyncio.gather(*(post(b) for b in bodies))
    return statuses, valid


async def _no_pending(db: Database) -> None:
    for _ in range(500):
        async with db.session() as session:
            pending = (await session.exec(select(InboundEvent.event_id).where(
                InboundEvent.status == "pending"))).all()
        if not pending:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(pending)} events left pending")


@pytest.mark.parametrize("seed", [20])
async def test_fuzzed_webhooks_answer_2xx_or_4xx_and_process_every_valid_event(
        tg, zl, oa, demo_db: Database, seed: int, caplog):  # noqa: F811
    # Telegram
    def tg_valid(k: int) -> tuple[dict, int]:
        return message_update(70_000 + k, "/start"), 70_000 + k

    def tg_base(k: int) -> dict:
        return (message_update(80_000 + k, "xin chào") if k % 2 else
                callback_update(80_000 + k, "go:relay:1", message_id=5))

    statuses, valid = await _fuzz(tg.post, tg_valid, tg_base, ("update_id",), seed)
    assert all(200 <= s < 500 for s in statuses), sorted(set(statuses))
    for user in valid:
        await tg.fake.wait_for("sendMessage", 1, chat_id=user)

    # Zalo Bot
    def zl_valid(k: int) -> tuple[dict, str]:
        return fake_zalo.text_event(f"v{k}", "Xin chào"), f"v{k}"

    def zl_base(k: int) -> dict:
        return (fake_zalo.text_event(f"z{k}", "#civic:go:relay:1") if k % 2 else
                fake_zalo.image_event(f"z{k}", "https://photo.zadn.vn/a.jpg"))

    statuses, valid = await _fuzz(zl.post, zl_valid, zl_base, (), seed + 1)
    assert all(200 <= s < 500 for s in statuses), sorted(set(statuses))
    for user in valid:
        await zl.fake.wait_for("sendMessage", 1, chat_id=user)

    # Zalo OA: signed as Zalo signs (the timestamp as sent)
    async def oa_post(event: dict) -> int:
        raw = json.dumps(event).encode()
        stamp = event.get("timestamp")
        stamp = str(stamp) if isinstance(stamp, str | int) and str(stamp).isdigit() else ""
        mac = hashlib.sha256(APP_ID.encode() + raw + stamp.encode() + SECRET_KEY.encode())
        return await oa.post(raw, "mac=" + mac.hexdigest())

    def oa_valid(k: int) -> tuple[dict, str]:
        event = fake_zalo_oa.text_event(f"v{k}", "Xin chào")
        return event, event["message"]["msg_id"]

    def oa_base(k: int) -> dict:
        return (fake_zalo_oa.text_event(f"o{k}", "#civic:go:relay:1") if k % 2 else
                fake_zalo_oa.file_event(f"o{k}", "https://f.zalo.me/a.pdf", "a.pdf"))

    statuses, valid = await _fuzz(oa_post, oa_valid, oa_base, ("app_id", "timestamp"), seed + 2)
    assert all(200 <= s < 500 for s in statuses), sorted(set(statuses))
    for _ in range(500):
        quoted = {c.to.get("message_id") for c in oa.fake.messages()}
        if set(valid) <= quoted:
            break
        await asyncio.sleep(0.02)
    assert set(valid) <= quoted

    await _no_pending(demo_db)
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not crashes, [r.getMessage()[:200] for r in crashes[:5]]
    assert await tg.post(message_update(99_999, "/start")) == 200  # and people are answered
    await tg.fake.wait_for("sendMessage", 1, chat_id=99_999)
