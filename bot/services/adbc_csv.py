"""A query's rows as CSV through ADBC and Arrow (SQLite), run in a child process by
bot.services.log_csv; imports nothing of the bot so the child starts quickly."""

from __future__ import annotations

from pathlib import Path


def write(database_path: str, sql: str, params: tuple, path: Path, headers: list[str]) -> int:
    """Stream the rows of `sql` to `path` as CSV with a BOM; returns how many rows."""
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa
    import pyarrow.csv as pacsv

    count = 0
    with adbc.connect(database_path) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        reader = cursor.fetch_record_batch()
        with path.open("wb") as handle:
            handle.write(b"\xef\xbb\xbf")
            schema = reader.schema
            if not len(schema):  # no rows: ADBC gives no columns, write the header alone
                schema = pa.schema([(h, pa.string()) for h in headers])
            writer = pacsv.CSVWriter(handle, schema)
            for batch in reader:
                writer.write_batch(batch)
                count += batch.num_rows
            writer.close()
    return count
