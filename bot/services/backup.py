"""One archive holds a whole installation: database, pseudonym key, files, manifest.

The archive (.tar.gz) has `manifest.json` (versions, schema revision, SHA-256 of every other
member), the database (`database.sqlite` made with SQLite's online backup API, or
`database.pgdump` from `pg_dump -Fc`), `pseudonym.key`, and `files/` (received and published
files of the data folder). The database is copied first and the files after it, so every file
the copied database refers to is in the archive (a file saved meanwhile is merely extra).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
PG_MEMBER = "database.pgdump"
KEY_MEMBER = "pseudonym.key"


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message says why."""


@dataclass(frozen=True)
class Manifest:
    """What an archive says about itself."""

    database: str  # "sqlite" | "postgresql"
    schema: str | None
    version: str
    created: str
    checksums: dict[str, str]

    @classmethod
    def parse(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {data.get('format')!r}")
        return cls(data["database"], data["schema"], data["civicbot"], data["created"],
                   data["sha256"])


def package_version() -> str:
    """The installed civicbot version ("unknown" when run from a bare checkout)."""
    try:
        return metadata.version("civicbot")
    except metadata.PackageNotFoundError:
        return "unknown"


def sqlite_path(database_url: str) -> Path | None:
    """The file of an SQLite DATABASE_URL; None for PostgreSQL."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def pg_url(database_url: str) -> str:
    """A libpq URL (postgresql://…) that pg_dump and pg_restore understand."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: install the PostgreSQL client tools "
                          "(Debian: apt install postgresql-client) of the server's version")
    return found


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise BackupError(f"{Path(args[0]).name}: {last}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dump_database(database_url: str, target: Path) -> str:
    """Copy the database consistently into `target`; return its archive member name."""
    path = sqlite_path(database_url)
    if path is None:
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target),
              "--dbname", pg_url(database_url)])
        return PG_MEMBER
    if not path.exists():
        raise BackupError(f"no database at {path}")
    source = sqlite3.connect(path)  # read-only mode would fail on a WAL file without its -shm
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # the online backup API: a consistent copy while the bot writes
    finally:
        copy.close()
        source.close()
    return SQLITE_MEMBER


def create(output: Path, *, database_url: str, data_dir: Path, key: bytes,
           schema: str | None, now: datetime) -> Manifest:
    """Write the archive to `output` (through a temporary file, so it is whole or absent)."""
    with tempfile.TemporaryDirectory(prefix="civicbot-backup-") as tmp:
        work = Path(tmp)
        members: dict[str, Path] = {}
        database = work / "database"
        members[dump_database(database_url, database)] = database
        (work / KEY_MEMBER).write_bytes(key + b"\n")
        members[KEY_MEMBER] = work / KEY_MEMBER
        files = data_dir / "files"
        for path in sorted(files.rglob("*")) if files.is_dir() else ():
            if path.is_file():
                members[path.relative_to(data_dir).as_posix()] = path
        checksums = {name: _sha256(path) for name, path in members.items()}
        manifest = {"format": FORMAT, "civicbot": package_version(), "created": now.isoformat(),
                    "database": "sqlite" if SQLITE_MEMBER in members else "postgresql",
                    "schema": schema, "sha256": checksums}
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            raw = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(raw), int(now.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(raw))
            for name, path in members.items():
                tar.add(path, arcname=name, recursive=False)
        partial.chmod(0o600)  # it holds the key and personal data
        os.replace(partial, output)
    return Manifest.parse(raw)


def unpack(archive: Path, into: Path) -> Manifest:
    """Extract an archive into the folder `into` after checking every checksum."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            try:
                raw = tar.extractfile(MANIFEST).read()  # type: ignore[union-attr]
            except KeyError:
                raise BackupError(f"{archive} has no {MANIFEST}: not a civicbot backup") from None
            manifest = Manifest.parse(raw)
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"cannot read {archive}: {exc}") from None
    for name, expected in manifest.checksums.items():
        path = into / name
        if not path.is_file():
            raise BackupError(f"{name} is listed in the manifest but missing from the archive")
        if _sha256(path) != expected:
            raise BackupError(f"{name} does not match its checksum: the archive is damaged")
    return manifest


def sqlite_is_live(path: Path) -> bool:
    """True when an SQLite file already holds a civicbot schema."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name='alembic_version'"
                                 ).fetchone())


def restore_database(manifest: Manifest, unpacked: Path, database_url: str) -> None:
    """Put the archived database in place of the configured one (already judged safe)."""
    path = sqlite_path(database_url)
    if manifest.database == "sqlite":
        if path is None:
            raise BackupError("this backup holds an SQLite database but DATABASE_URL is "
                              "PostgreSQL")
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm"):  # the old database's journal must not replay
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(unpacked / SQLITE_MEMBER, path.with_name(path.name + ".restoring"))
        os.replace(path.with_name(path.name + ".restoring"), path)
        return
    if path is not None:
        raise BackupError("this backup holds a PostgreSQL database but DATABASE_URL is SQLite")
    _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--dbname", pg_url(database_url), str(unpacked / PG_MEMBER)])


def restore_files(unpacked: Path, data_dir: Path) -> int:
    """Copy the archived key and files into the data folder; return how many files."""
    data_dir.mkdir(parents=True, exist_ok=True)
    key = data_dir / KEY_MEMBER
    shutil.copyfile(unpacked / KEY_MEMBER, key)
    key.chmod(0o600)
    count = 0
    source = unpacked / "files"
    for path in sorted(source.rglob("*")) if source.is_dir() else ():
        if path.is_file():
            target = data_dir / path.relative_to(unpacked)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            count += 1
    return count


def archived_key(unpacked: Path) -> bytes:
    """The pseudonym key held in an unpacked archive."""
    return (unpacked / KEY_MEMBER).read_bytes().strip()


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` scheduled backups in `folder`; return the deleted."""
    archives = sorted(folder.glob("civicbot-*.tar.gz"))
    doomed = archives[:-keep] if keep > 0 else archives
    for path in doomed:
        path.unlink()
    return doomed


def scheduled_name(now: datetime) -> str:
    """The file name of a scheduled backup (sorts by time)."""
    return f"civicbot-{now:%Y%m%d-%H%M%S}.tar.gz"


def describe(manifest: Manifest) -> dict[str, Any]:
    """A manifest as printable facts."""
    files = sum(1 for name in manifest.checksums if name.startswith("files/"))
    return {"database": manifest.database, "schema": manifest.schema,
            "version": manifest.version, "created": manifest.created, "files": files}
