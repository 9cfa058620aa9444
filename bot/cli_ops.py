"""`civicbot backup`, `restore` and `doctor`: the operator's tools for a real installation.

They take the settings, not a built app: a restore replaces the database and key an app
would hold open, and the doctor must report an unwritable folder instead of failing on it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from alembic.script import ScriptDirectory

from bot import cli_accountability, doctor
from bot.app import build, cli_actor
from bot.config import Settings
from bot.pseudonym import KEY_FILE
from bot.services import backup
from bot.services.backup import BackupError
from storage import clock
from storage.db import Database, alembic_config


async def schema_of(db: Database) -> str | None:
    """The database's Alembic revision; None when it holds no civicbot schema."""
    async with db.engine.connect() as conn:
        if not await conn.run_sync(lambda c: c.dialect.has_table(c, "alembic_version")):
            return None
        result = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
        return result.scalar()


def current_key(settings: Settings) -> bytes:
    """The pseudonym key in use, without creating one."""
    if settings.pseudonym_key:
        return settings.pseudonym_key.get_secret_value().encode()
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        raise BackupError(f"no pseudonym key: {path} does not exist and PSEUDONYM_KEY is unset")
    return path.read_text().strip().encode()


async def make_backup(settings: Settings, output: Path) -> backup.Manifest:
    """Write one archive of the configured installation to `output`."""
    db = Database(settings.async_database_url)
    try:
        schema = await schema_of(db)
    finally:
        await db.dispose()
    if schema is None:
        raise BackupError("the database holds no civicbot data yet: nothing to back up")
    return await asyncio.to_thread(
        backup.create, output, database_url=settings.database_url, data_dir=settings.data_dir,
        key=current_key(settings), schema=schema, now=clock.now())


async def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """Back up the database, the key and the files into one archive."""
    facts = backup.describe(await make_backup(settings, Path(args.output)))
    print(f"backup written to {args.output}: {facts['database']} database at schema "
          f"{facts['schema']}, {facts['files']} file(s), the pseudonym key")
    return 0


async def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore an archive into the configured database and data folder, then verify the log."""
    archive = Path(args.file)
    with tempfile.TemporaryDirectory(prefix="civicbot-restore-") as tmp:
        unpacked = Path(tmp)
        manifest = backup.unpack(archive, unpacked)
        if manifest.schema is not None:
            try:
                ScriptDirectory.from_config(alembic_config()).get_revision(manifest.schema)
            except Exception:  # alembic raises several kinds for an unknown revision
                raise BackupError(f"the backup's schema {manifest.schema} is unknown to this "
                                  "version: restore it with the civicbot version that made it "
                                  f"({manifest.version}) or newer") from None
        db = Database(settings.async_database_url)
        try:
            live = await schema_of(db) is not None
        finally:
            await db.dispose()
        if live and not args.force:
            raise BackupError("the configured database already holds civicbot data: stop the "
                              "bot and add --force to replace it with the backup")
        if settings.pseudonym_key and settings.pseudonym_key.get_secret_value().encode() != \
                backup.archived_key(unpacked):
            print("warning: PSEUDONYM_KEY differs from the backup's key; unset it to use the "
                  f"restored {KEY_FILE}", file=sys.stderr)
        await asyncio.to_thread(backup.restore_database, manifest, unpacked,
                                settings.database_url)
        files = await asyncio.to_thread(backup.restore_files, unpacked, settings.data_dir)
    print(f"restored the {manifest.database} database (schema {manifest.schema}, made "
          f"{manifest.created} by civicbot {manifest.version}) and {files} file(s)")
    app = build(settings)
    try:
        return await cli_accountability.cmd_verify(app, args, cli_actor())
    finally:
        await app.close()


async def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """Check the configuration; print one line per check; exit 1 when one fails."""
    db = Database(settings.async_database_url)
    try:
        checks = await doctor.run_checks(settings, db)
    finally:
        await db.dispose()
    for check in checks:
        print(check.line())
    failed = [check for check in checks if not check.ok]
    print(f"{len(failed)} problem(s) found" if failed else "all checks passed")
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `backup`, `restore` and `doctor` (commands that take the settings, not an app)."""
    made = sub.add_parser("backup", help="write the database, key and files to one archive "
                          "(safe while the bot runs)")
    made.add_argument("-o", "--output", required=True, help="the archive to write (.tar.gz)")
    made.set_defaults(func=cmd_backup, settings_only=True)
    restore = sub.add_parser("restore", help="restore a backup archive, then verify the log")
    restore.add_argument("file", help="an archive made by `civicbot backup`")
    restore.add_argument("--force", action="store_true",
                         help="replace a database that already holds data (stop the bot first)")
    restore.set_defaults(func=cmd_restore, settings_only=True)
    sub.add_parser("doctor", help="check the configuration before starting"
                   ).set_defaults(func=cmd_doctor, settings_only=True)
