"""Export N interaction-log rows to CSV (and XLSX) next to the sqlite3 CLI, in one run.

Builds a SQLite database through the migrations, fills the log with N realistic rows, then
times `sqlite3 -csv -header` dumping the same rows and `python -m bot export log` writing
them (each in its own process, with its peak memory). Run by hand:

    .venv/bin/python bench/export_log.py --rows 1000000 --xlsx

Prints one line per command; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

KINDS = ("command", "button", "text", "reply", "location", "attachment")
FLOWS = ("menu", "disclosures", "petition", "settings", "onboarding")


def fill(path: Path, rows: int, seed: int = 3) -> None:
    """Insert `rows` log rows spread over 2026 (sqlite3 executemany, in chunks)."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1)
    users = [f"{rng.getrandbits(80):020x}" for _ in range(5000)]
    connection = sqlite3.connect(path)
    chunk = []
    for number in range(rows):
        at = start + timedelta(seconds=number * 31_000_000 // max(rows, 1))
        kind = rng.choice(KINDS)
        chunk.append((
            at.isoformat(sep=" "), rng.choice(("telegram", "zalo", "console")),
            "out" if kind == "reply" else "in", rng.choice(users), f"khu-{rng.randint(1, 8)}",
            rng.choice(FLOWS), "choice", kind,
            "Công khai thông tin" if kind == "button" else None,
            rng.randint(3, 40) if kind == "reply" else None,
        ))
        if len(chunk) == 50_000:
            _insert(connection, chunk)
            chunk.clear()
    if chunk:
        _insert(connection, chunk)
    connection.close()


def _insert(connection: sqlite3.Connection, chunk: list[tuple]) -> None:
    connection.executemany(
        "INSERT INTO interaction_log (at, channel, direction, user_ref, hamlet_code, flow, "
        "step, kind, text, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", chunk)
    connection.commit()


def measure(command: list[str], env: dict[str, str] | None = None,
            stdout: object = subprocess.DEVNULL) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one child process."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=errors, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)  # wait4: this child's own peak memory
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{command[0]} failed: {errors.read().decode()[:500]}")
    return elapsed, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Build the data, run the commands, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx", action="store_true", help="also time the XLSX export")
    args = parser.parse_args(argv)
    result: dict[str, float] = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = folder / "bench.db"
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
               "DATA_DIR": str(folder / "data"), "PSEUDONYM_KEY": "bench"}
        env.pop("TELEGRAM_BOT_TOKEN", None)
        # The schema comes from a child process, so that this one stays small: a child's peak
        # memory counts what it inherited at fork time.
        subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True,
                       cwd=ROOT, capture_output=True)
        fill(database, args.rows)
        if shutil.which("sqlite3"):
            with (folder / "cli.csv").open("wb") as out:
                seconds, memory = measure(
                    ["sqlite3", "-csv", "-header", str(database),
                     "SELECT * FROM interaction_log ORDER BY id"], stdout=out)
            result |= {"sqlite3_cli_s": round(seconds, 2), "sqlite3_cli_mb": round(memory)}
        seconds, memory = measure(
            [sys.executable, "-m", "bot", "export", "log", "--from", "2026-01-01", "--to",
             "2026-12-31", "-o", str(folder / "log.csv")], env=env)
        result |= {"csv_s": round(seconds, 2), "csv_mb": round(memory)}
        if result.get("sqlite3_cli_s"):
            result["csv_ratio"] = round(seconds / result["sqlite3_cli_s"], 2)
        if args.xlsx:
            seconds, memory = measure(
                [sys.executable, "-m", "bot", "export", "log", "--from", "2026-01-01", "--to",
                 "2026-12-31", "--format", "xlsx", "-o", str(folder / "log.xlsx")], env=env)
            result |= {"xlsx_s": round(seconds, 2), "xlsx_mb": round(memory)}
    print(" ".join(f"{key}={value}" for key, value in result.items()))
    return result


if __name__ == "__main__":
    main()
