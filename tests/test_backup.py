"""`civicbot backup` and `restore` on both databases, and the scheduled daily backup."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sqlite3
import tarfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import backup_job
from bot.config import Settings
from bot.services import backup
from storage.db import Database, head_revision
from tests.conftest import BACKENDS, PG_URL, Clock, schema_changed


async def _empty(database: Database) -> None:
    await database.drop_all()
    await database.dispose()


@pytest.fixture(params=BACKENDS)
def office(request: pytest.FixtureRequest, shell, tmp_path: Path, monkeypatch, capsys):
    """A configured installation with the demo commune, a resident and a received file."""
    if request.param == "postgresql":
        monkeypatch.setenv("DATABASE_URL", PG_URL)
        asyncio.run(_empty(Database(Settings().async_database_url)))
        schema_changed()
    assert shell(capsys, "init", "--demo")[0] == 0
    assert shell(capsys, "role", "grant", "--channel", "telegram", "--user-id", "5",
                 "--role", "staff")[0] == 0
    received = tmp_path / "data" / "files" / "received" / "photo.jpg"
    received.parent.mkdir(parents=True)
    received.write_bytes(b"\xff\xd8 a pothole")
    yield request.param
    if request.param == "postgresql":
        schema_changed()


def test_backup_then_restore_over_a_changed_database_needs_force(office, shell, capsys,
                                                                 tmp_path: Path):
    archive = tmp_path / "out" / "b.tar.gz"
    code, out, err = shell(capsys, "backup", "-o", str(archive))
    assert code == 0, err
    assert f"{office} database at schema {head_revision()}, 1 file(s)" in out
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        assert set(tar.getnames()) == {"manifest.json", "pseudonym.key",
                                       "files/received/photo.jpg", backup.SQLITE_MEMBER
                                       if office == "sqlite" else backup.PG_MEMBER}
    assert manifest["schema"] == head_revision() and manifest["civicbot"]
    assert set(manifest["sha256"]) == {"pseudonym.key", "files/received/photo.jpg",
                                       *(n for n in (backup.SQLITE_MEMBER, backup.PG_MEMBER)
                                         if n in manifest["sha256"])}

    # Afterwards the office changes things and loses a file; the backup brings them back.
    assert shell(capsys, "role", "revoke", "--channel", "telegram", "--user-id", "5",
                 "--role", "staff")[0] == 0
    (tmp_path / "data" / "files" / "received" / "photo.jpg").unlink()
    code, _, err = shell(capsys, "restore", str(archive))
    assert code == 1 and "add --force" in err
    code, out, err = shell(capsys, "restore", str(archive), "--force")
    assert code == 0, err
    assert "and 1 file(s)" in out and "the interaction log is intact" in out
    assert (tmp_path / "data" / "files" / "received" / "photo.jpg").read_bytes() == (
        b"\xff\xd8 a pothole")
    code, out, _ = shell(capsys, "role", "revoke", "--channel", "telegram", "--user-id", "5",
                         "--role", "staff")
    assert "(1 change(s))" in out  # the grant revoked after the backup is back


def test_a_damaged_or_foreign_archive_is_refused(office, shell, capsys, tmp_path: Path):
    if office != "sqlite":
        pytest.skip("the archive checks do not depend on the database")
    archive = tmp_path / "b.tar.gz"
    assert shell(capsys, "backup", "-o", str(archive))[0] == 0
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "pseudonym.key":
                data = b"another key\n"
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    code, _, err = shell(capsys, "restore", str(damaged), "--force")
    assert code == 1 and "pseudonym.key does not match its checksum" in err
    newer = tmp_path / "newer.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(newer, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                data = data.replace(head_revision().encode(), b"0099_from_the_future")
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    code, _, err = shell(capsys, "restore", str(newer), "--force")
    assert code == 1 and "schema 0099_from_the_future is unknown to this version" in err


def test_postgresql_without_pg_dump_says_so(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match="pg_dump is not installed"):
        backup.dump_database("postgresql://u@127.0.0.1/x", tmp_path / "d")


async def test_the_daily_backup_keeps_the_newest(tmp_path: Path):
    database = tmp_path / "bot.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.execute("INSERT INTO alembic_version VALUES ('0013_open311_api_keys')")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pseudonym.key").write_text("k\n")
    settings = Settings(database_url=f"sqlite:///{database}", data_dir=tmp_path / "data",
                        backup_dir=tmp_path / "backups", backup_keep=2)
    clock = Clock(datetime(2026, 11, 25, 19, 0, tzinfo=UTC))
    for day in (25, 26, 27):
        clock.now = datetime(2026, 11, day, 19, 0, tzinfo=UTC)
        assert await backup_job.daily_backup(settings) == 1
    kept = sorted(p.name for p in (tmp_path / "backups").iterdir())
    assert kept == ["civicbot-20261127-020000.tar.gz", "civicbot-20261128-020000.tar.gz"]
    clock.now = datetime(2026, 11, 27, 19, 5, tzinfo=UTC)  # another process, same night
    assert await backup_job.daily_backup(settings) == 0
    assert len(list((tmp_path / "backups").iterdir())) == 2


def test_an_sqlite_backup_is_consistent_while_the_bot_writes(tmp_path: Path):
    """The online backup API copies a whole, committed state while another connection writes."""
    import threading

    database = tmp_path / "bot.db"
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
        conn.execute("CREATE TABLE log (n INTEGER, twice INTEGER)")
    stop = threading.Event()

    def write() -> None:
        with sqlite3.connect(database) as writer:
            n = 0
            while not stop.is_set():
                n += 1
                writer.execute("INSERT INTO log VALUES (?, ?)", (n, 2 * n))
                writer.commit()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while not database.with_name("bot.db-wal").exists() or _rows(database) < 50:
            time.sleep(0.005)
        copies = []
        for i in range(3):
            copies.append(tmp_path / f"copy{i}.db")
            backup.dump_database(f"sqlite:///{database}", copies[-1])
    finally:
        stop.set()
        thread.join()
    counts = []
    for copy in copies:
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            rows = conn.execute("SELECT count(*), max(n), sum(twice) - 2 * sum(n) FROM log"
                                ).fetchone()
        assert rows[0] == rows[1] and rows[2] == 0  # no half-written row, no gap
        counts.append(rows[0])
    assert counts == sorted(counts) and counts[0] >= 50


def _rows(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        return conn.execute("SELECT count(*) FROM log").fetchone()[0]
