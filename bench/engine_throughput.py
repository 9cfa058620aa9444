"""How many messages per second the engine answers, with many users chatting at once.

Each simulated user goes through onboarding and a few menu steps (11 messages), all users
concurrently, on a fresh database. Run by hand:

    .venv/bin/python bench/engine_throughput.py --users 500
    .venv/bin/python bench/engine_throughput.py --users 500 --database-url postgresql://postgres@127.0.0.1:5432/test

Prints messages/s and latency percentiles; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine import Engine  # noqa: E402
from bot.messages import Inbound  # noqa: E402
from bot.services import commune_setup  # noqa: E402
from storage import clock  # noqa: E402
from storage.db import Database, async_database_url  # noqa: E402

SCRIPT = ["/start", "2", "đồng ý", "2", "5", "1", "2", "Menu chính", "6", "menu", "/help"]


async def _user(engine: Engine, user_id: str, latencies: list[float]) -> None:
    for text in SCRIPT:
        command = text[1:] if text.startswith("/") else None
        started = time.perf_counter()
        await engine.handle(Inbound("console", user_id, text=text, command=command))
        latencies.append(time.perf_counter() - started)


async def run(users: int, database_url: str | None) -> dict[str, float]:
    """Run the benchmark; returns the figures it prints."""
    with tempfile.TemporaryDirectory() as tmp:
        url = async_database_url(database_url or f"sqlite:///{tmp}/bench.db")
        db = Database(url)
        await db.drop_all()
        await db.upgrade()
        async with db.session() as session:
            await commune_setup.load_demo_if_empty(session, "bench", now=clock.now())
            await session.commit()
        engine = Engine(db, pseudonym_key=b"bench")
        latencies: list[float] = []
        started = time.perf_counter()
        await asyncio.gather(*(_user(engine, f"u{i}", latencies) for i in range(users)))
        elapsed = time.perf_counter() - started
        await db.drop_all()
        await db.dispose()
    ordered = sorted(latencies)
    return {
        "messages": len(latencies),
        "seconds": round(elapsed, 2),
        "messages_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Command line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.users, args.database_url))
    print(" ".join(f"{k}={v}" for k, v in result.items()))
    return result


if __name__ == "__main__":
    main()
