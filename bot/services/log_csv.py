"""The interaction log as CSV without a Python loop per row.

Row-by-row Python is about 5 times slower than the sqlite3 CLI on a million rows
(../shared/reference/perf-anchors.md). On SQLite, ADBC reads Arrow record batches that
Arrow's CSV writer streams to the file; on PostgreSQL, `COPY … TO STDOUT` does the same.
Local time is computed in SQL, each row with the UTC offset in force at its own moment
(summer time included); headers come already translated.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.services import adbc_csv
from storage.db import Database


async def write(db: Database, path: Path, headers: list[str], first: datetime,
                        after: datetime, timezone: str) -> int:
    """Write the log rows of [first, after) as CSV with a BOM; returns how many rows."""
    alias = [h.replace('"', '""') for h in headers]
    naive_first = first.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    naive_after = after.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    if db.engine.dialect.name == "postgresql":
        return await _copy_log_csv(db, path, alias, naive_first, naive_after, timezone)
    local_at = _local_time_sql("at", first, after, ZoneInfo(timezone))
    text_columns = ("channel", "direction", "user_ref", "hamlet_code", "flow", "step", "kind",
                    "text")
    never_null = {"channel", "direction", "user_ref", "kind"}
    # ADBC guesses a column's type from its first batch: a column of NULLs there would be
    # taken for integers, so nullable text columns become '' instead of NULL.
    select_list = ", ".join(
        [f'id AS "{alias[0]}"',
         f'{local_at} AS "{alias[1]}"']
        + [(name if name in never_null else f"coalesce({name}, '')") + f' AS "{alias[i + 2]}"'
           for i, name in enumerate(text_columns)]
        + [f"coalesce(CAST(latency_ms AS TEXT), '') AS \"{alias[10]}\"",
           f"coalesce(actor, '') AS \"{alias[11]}\""]
    )
    # Rows go out in id order. Sorting a million rows costs more than the export itself, so
    # the time range is turned into an id range first (ids grow with time) and the table is
    # read in rowid order, the time condition kept as a filter.
    window = (naive_first.isoformat(sep=" "), naive_after.isoformat(sep=" "))
    async with db.engine.connect() as connection:
        low, high = (await connection.exec_driver_sql(
            "SELECT min(id), max(id) FROM interaction_log WHERE at >= ? AND at < ?", window
        )).one()
    sql = (f"SELECT {select_list} FROM interaction_log WHERE id BETWEEN ? AND ? "
           "AND at >= ? AND at < ? ORDER BY id")
    params = (low or 0, high or -1, *window)
    database_path = db.engine.url.database
    return await _in_child_process(adbc_csv.write, database_path, sql, params, path,
                                   headers)


async def _in_child_process(function: Callable[..., int], *args: Any) -> int:
    """Run `function` in a fresh process. ADBC's driver carries its own copy of SQLite: in
    the bot's process it would open the database file beside the bot's SQLite, and closing
    it drops the bot's POSIX locks (SQLite warns against two copies of the library in one
    process; seen here as "disk I/O error" on the next query)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)


def _offset(moment: datetime, zone: ZoneInfo) -> int:
    """The zone's UTC offset at `moment`, in minutes."""
    return int(moment.astimezone(zone).utcoffset().total_seconds() // 60)


def _offsets(first: datetime, after: datetime, zone: ZoneInfo) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets over [first, after): (from this UTC moment, minutes), in order.

    Walks a day at a time (no zone changes its offset twice in a day) and finds the second
    of each change by halving.
    """
    first, after = first.astimezone(UTC), after.astimezone(UTC)
    found = [(first, _offset(first, zone))]
    start = first
    while start < after:
        end = min(start + timedelta(days=1), after)
        if _offset(end, zone) != found[-1][1]:
            low, high = 0, int((end - start).total_seconds())
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(start + timedelta(seconds=middle), zone) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            change = start + timedelta(seconds=high)
            found.append((change, _offset(change, zone)))
        start = end
    return found


def _local_time_sql(column: str, first: datetime, after: datetime, zone: ZoneInfo) -> str:
    """SQLite SQL for `column` (naive UTC) as local 'YYYY-MM-DD HH:MM:SS', row by row."""
    offsets = _offsets(first, after, zone)
    modifier = f"'{offsets[0][1]:+d} minutes'"
    if len(offsets) > 1:
        branches = " ".join(
            f"WHEN {column} < '{start.replace(tzinfo=None).isoformat(sep=' ')}' "
            f"THEN '{previous:+d} minutes'"
            for (start, _), (_, previous) in zip(offsets[1:], offsets, strict=False))
        modifier = f"CASE {branches} ELSE '{offsets[-1][1]:+d} minutes' END"
    return f"strftime('%Y-%m-%d %H:%M:%S', {column}, {modifier})"


async def _copy_log_csv(db: Database, path: Path, alias: list[str], first: datetime,
                        after: datetime, timezone: str) -> int:
    text_columns = ("channel", "direction", "user_ref", "hamlet_code", "flow", "step", "kind",
                    "text")
    zone = timezone.replace("'", "")
    select_list = ", ".join(
        [f'id AS "{alias[0]}"',
         f"to_char(at AT TIME ZONE 'UTC' AT TIME ZONE '{zone}', 'YYYY-MM-DD HH24:MI:SS') "
         f'AS "{alias[1]}"']
        + [f"{name} AS \"{alias[i + 2]}\"" for i, name in enumerate(text_columns)]
        + [f'latency_ms AS "{alias[10]}"', f'actor AS "{alias[11]}"']
    )
    sql = (f"SELECT {select_list} FROM interaction_log WHERE at >= $1 AND at < $2 "
           "ORDER BY id")
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        with path.open("wb") as handle:
            handle.write(b"\xef\xbb\xbf")
            status = await driver.copy_from_query(sql, first, after, output=handle,
                                                  format="csv", header=True)
    return int(status.split()[-1])
