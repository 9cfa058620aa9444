"""The nightly backup, when BACKUP_DIR is set: one archive, then all but BACKUP_KEEP deleted.

A separate module so the scheduler registers it with one line. With several processes the
job runs under its own advisory lock, and a night that already has its archive in BACKUP_DIR
(a shared folder: another process made it) gets no second one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.services import backup
from storage import clock
from storage.db import Database

log = logging.getLogger(__name__)
CRONTAB = "15 2 * * *"  # 02:15 local, before the 02:30 log clean-up


async def daily_backup(settings: Settings, now: datetime | None = None) -> int:
    """Write tonight's archive into BACKUP_DIR and prune; return 1 when written."""
    from bot.cli_ops import make_backup  # the CLI's backup, shared (imports the app)

    if settings.backup_dir is None:
        return 0
    local = (now or clock.now()).astimezone(ZoneInfo(settings.timezone))
    if any(settings.backup_dir.glob(f"civicbot-{local:%Y%m%d}-*.tar.gz")):
        return 0  # tonight's archive is there already
    target = settings.backup_dir / backup.scheduled_name(local)
    try:
        await make_backup(settings, target)
    except backup.BackupError as exc:
        log.error("nightly backup failed: %s", exc)
        return 0
    for old in backup.prune(settings.backup_dir, settings.backup_keep):
        log.info("nightly backup: removed %s", old.name)
    return 1


def add(scheduler: AsyncIOScheduler, settings: Settings, db: Database) -> None:
    """Schedule the nightly backup when BACKUP_DIR is set (one process at a time)."""
    from bot.scheduler import cron, once

    if settings.backup_dir is not None:
        cron(scheduler, once(db, daily_backup), CRONTAB, settings)
