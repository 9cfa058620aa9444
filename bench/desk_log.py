"""The web desk's log page at N interaction-log rows: a filtered first page, p50/p95.

Builds a SQLite database through the migrations (so the desk's indexes are there), fills
the log with N rows spread over 2026 (bench/export_log.py's rows, plus staff actions with an
actor), signs a staff identity in through a one-time link and GETs the log page over
loopback under each filter, `--repeat` times. Run by hand:

    .venv/bin/python bench/desk_log.py --rows 1000000

Prints one line per filter and a total line; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILTERS = {
    "none": "",
    "kind": "kind=location",
    "channel+hamlet": "channel=zalo&hamlet=khu-3",
    "month+kind": "start=2026-06-01&end=2026-06-30&kind=button",
    "actor": "actor=telegram:900001",
    "text": "q=C%C3%B4ng+khai",
    "day": "start=2026-09-15&end=2026-09-15",
    "text-nowhere": "q=kh%C3%B4ng+c%C3%B3+ch%E1%BB%AF+n%C3%A0y",  # read a scan window, finds 0
    "hamlet-nowhere": "hamlet=khu-99",
}


def _export_bench():
    spec = importlib.util.spec_from_file_location("export_log", ROOT / "bench" / "export_log.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill(path: Path, rows: int) -> None:
    """The export bench's rows, one in 500 a staff action with an actor."""
    _export_bench().fill(path, rows)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE interaction_log SET direction='admin', kind='web_petition_answer', "
                       "actor='telegram:900001' WHERE id % 500 = 0")
    connection.execute("ANALYZE")
    connection.commit()
    connection.close()


async def measure(database: Path, data_dir: Path, repeat: int) -> dict[str, dict[str, float]]:
    import aiohttp

    from bot import web_desk
    from bot.services import roles, web_access
    from bot.web import build_web_app
    from storage import clock
    from storage.db import Database
    from tests.loopback import serve

    db = Database(f"sqlite+aiosqlite:///{database}")
    async with db.session() as session:
        await roles.grant(session, "telegram", "900001", "staff", actor="bench")
        token = await web_access.issue_link(session, "telegram", "900001", clock.now())
        cookie, _row = await web_access.redeem(session, token, clock.now())
        await session.commit()
    app = build_web_app(db, dict, web_desk.routes(
        db, timezone="Asia/Ho_Chi_Minh", data_dir=data_dir, key=b"bench", base_url="http://x"))
    runner, url = await serve(app)
    figures: dict[str, dict[str, float]] = {}
    try:
        async with aiohttp.ClientSession(cookies={"desk_session": cookie}) as http:
            for name, query in FILTERS.items():
                times = []
                for _ in range(repeat + 1):  # the first one warms the caches, not counted
                    started = time.perf_counter()
                    async with http.get(f"{url}/ban-lam-viec/nhat-ky?{query}") as page:
                        await page.read()
                        assert page.status == 200, page.status
                    times.append((time.perf_counter() - started) * 1000)
                times = sorted(times[1:])
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                figures[name] = {"p50_ms": round(statistics.median(times), 1),
                                 "p95_ms": round(p95, 1)}
    finally:
        await runner.cleanup()
        await db.dispose()
    return figures


def main(argv: list[str] | None = None) -> dict:
    """Build, fill, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = folder / "bench.db"
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
               "DATA_DIR": str(folder / "data"), "PSEUDONYM_KEY": "bench"}
        subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True,
                       cwd=ROOT, capture_output=True)
        fill(database, args.rows)
        figures = asyncio.run(measure(database, folder, args.repeat))
    for name, values in figures.items():
        print(f"desk log page rows={args.rows} filter={name} p50_ms={values['p50_ms']} "
              f"p95_ms={values['p95_ms']}")
    worst = max(v["p95_ms"] for v in figures.values())
    print(f"desk log page rows={args.rows} worst_p95_ms={worst}")
    return {"rows": args.rows, "filters": figures, "worst_p95_ms": worst}


if __name__ == "__main__":
    main()
