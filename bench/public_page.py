"""How many public-page requests per second the bot's HTTP server answers, and how fast,
while the same process answers chats: the crowd the page's cache is for.

One process runs the bot as `python -m bot run` does (the engine, the HTTP server with the
public page, on one event loop) over a seeded year of the demo commune; simulated residents
chat with the engine the whole time. A second process (the other core) plays the crowd:
`--concurrency` clients on 127.0.0.1 fetching the sections, the English pages and petition
pages for `--seconds`. Loopback only, bounded in time and in requests. Run by hand:

    .venv/bin/python bench/public_page.py
    .venv/bin/python bench/public_page.py --seconds 20 --concurrency 32 --chatters 20

Prints requests/s and latency percentiles (and the chats answered meanwhile); asserts
nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from bot import public_page  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.messages import Inbound  # noqa: E402
from bot.web import build_web_app  # noqa: E402
from storage import clock  # noqa: E402
from storage.db import Database, async_database_url  # noqa: E402
from tests.loopback import serve  # noqa: E402
from tests.public_seed import TZ, seed_year  # noqa: E402

PATHS = ("/", "/cong-khai/thong-tin", "/cong-khai/doi-thoai", "/?lang=en",
         "/cong-khai/thong-tin?lang=en", "/cong-khai/phan-anh/PA-{year}-000001")
CHAT = ["/start", "1", "đồng ý", "2", "5", "1", "2", "Menu chính", "6", "menu", "/help"]
MAX_REQUESTS = 2_000_000  # a bound whatever the duration


async def _crowd(url: str, seconds: float, concurrency: int, rate: float
                 ) -> dict[str, object]:
    """Fetch the pages with `concurrency` clients for `seconds`; latencies in seconds.

    With `rate` (requests/s) the requests are sent on a fixed schedule and each latency is
    counted from its scheduled time, so waiting for a busy server counts too; without it
    every client sends its next request as soon as the last one is answered.
    """
    paths = [p.format(year=clock.now().year) for p in PATHS]
    latencies: list[float] = []
    errors = sent = 0
    begin = time.perf_counter()
    deadline = begin + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def client() -> None:
            nonlocal errors, sent
            while sent < MAX_REQUESTS:
                n, sent = sent, sent + 1
                due = begin + n / rate if rate else time.perf_counter()
                if due >= deadline:
                    return
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                async with http.get(url + paths[n % len(paths)]) as resp:
                    await resp.read()
                    errors += resp.status >= 500
                latencies.append(time.perf_counter() - due)
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - begin
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed}


async def _crowd_process(url: str, seconds: float, concurrency: int, rate: float
                         ) -> dict[str, object]:
    """The crowd in its own process (its own core): this script with --crowd."""
    crowd = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--crowd", url, "--seconds", str(seconds),
        "--concurrency", str(concurrency), "--rate", str(rate),
        stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(crowd.communicate(), timeout=seconds + 60)
    if crowd.returncode:
        raise RuntimeError(f"the crowd process failed ({crowd.returncode})")
    return json.loads(out)


async def _chatter(engine: Engine, name: str, stop: asyncio.Event, think: float,
                   latencies: list[float]) -> None:
    """A stream of new residents going through onboarding and the menu until `stop`, each
    taking `think` seconds between messages."""
    round_ = 0
    while not stop.is_set():
        user = f"{name}-{round_}"
        for text in CHAT:
            command = text[1:] if text.startswith("/") else None
            started = time.perf_counter()
            await engine.handle(Inbound("console", user, text=text, command=command))
            latencies.append(time.perf_counter() - started)
            if think:
                await asyncio.sleep(think)
        round_ += 1


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def run(seconds: float, concurrency: int, rate: float, chatters: int, think: float,
              per_month: int, database_url: str | None) -> dict[str, float]:
    """Run the benchmark; returns the figures it prints."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(async_database_url(database_url or f"sqlite:///{tmp}/bench.db"))
        await db.drop_all()
        await db.create_all()
        await seed_year(db, per_month=per_month, now=clock.now())
        routes = public_page.routes(db, timezone=TZ, data_dir=Path(tmp))
        runner, url = await serve(build_web_app(db, dict, routes))
        cold = {}
        async with aiohttp.ClientSession() as http:
            for path in (p.format(year=clock.now().year) for p in PATHS):  # warm the cache
                started = time.perf_counter()
                async with http.get(url + path) as resp:
                    await resp.read()
                cold[path] = (time.perf_counter() - started) * 1000
        engine = Engine(db, pseudonym_key=b"bench")
        stop, chat_latencies = asyncio.Event(), []
        chat_started = time.monotonic()
        chatting = [asyncio.create_task(_chatter(engine, f"c{i}", stop, think, chat_latencies))
                    for i in range(chatters)]
        result = await _crowd_process(url, seconds, concurrency, rate)
        stop.set()
        await asyncio.gather(*chatting)
        chat_elapsed = time.monotonic() - chat_started
        await runner.cleanup()
        await db.drop_all()
        await db.dispose()
    ordered = sorted(result["latencies"])
    chats = sorted(chat_latencies)
    return {
        "requests": len(ordered),
        "errors": result["errors"],
        "requests_per_s": len(ordered) / result["elapsed"],
        "p50_ms": statistics.median(ordered) * 1000 if ordered else 0.0,
        "p99_ms": _percentile(ordered, 0.99) * 1000,
        "cold_ms": max(cold.values()),
        "chat_messages": len(chats),
        "chat_per_s": len(chats) / chat_elapsed,
        "chat_p99_ms": _percentile(chats, 0.99) * 1000,
    }


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Parse arguments, run, print one line of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32, help="connections at most")
    parser.add_argument("--rate", type=float, default=200.0,
                        help="requests/s on a fixed schedule (0: as fast as answered)")
    parser.add_argument("--chatters", type=int, default=10, help="residents chatting at once")
    parser.add_argument("--think", type=float, default=0.5,
                        help="seconds each resident takes between messages (0: none)")
    parser.add_argument("--per-month", type=int, default=30, help="petitions seeded a month")
    parser.add_argument("--database-url")
    parser.add_argument("--tiny", action="store_true", help="a one-second run on tiny data")
    parser.add_argument("--crowd", metavar="URL", help=argparse.SUPPRESS)  # the 2nd process
    args = parser.parse_args(argv)
    if args.crowd:
        print(json.dumps(asyncio.run(_crowd(args.crowd, args.seconds, args.concurrency,
                                            args.rate))))
        return {}
    if args.tiny:
        args.seconds, args.concurrency, args.chatters, args.per_month = 1.0, 2, 1, 1
        args.rate, args.think = 50.0, 0.0
    args.seconds = min(args.seconds, 300.0)  # bounded
    figures = asyncio.run(run(args.seconds, args.concurrency, args.rate, args.chatters,
                              args.think, args.per_month, args.database_url))
    print(f"civicbot public page: requests={figures['requests']} errors={figures['errors']} "
          f"requests_per_s={figures['requests_per_s']:.0f} p50_ms={figures['p50_ms']:.1f} "
          f"p99_ms={figures['p99_ms']:.1f} cold_ms={figures['cold_ms']:.0f} | while "
          f"chat_per_s={figures['chat_per_s']:.0f} chat_p99_ms={figures['chat_p99_ms']:.0f}")
    return figures


if __name__ == "__main__":
    main()
