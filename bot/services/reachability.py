"""Whether a person can still be messaged: a channel tells us when they blocked the bot."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from storage import clock
from storage.db import Database
from storage.models import User


async def set_blocked(db: Database, channel: str, user_id: str, blocked: bool) -> bool:
    """Mark (or clear) "blocked the bot" on a user; False when there is no such user."""
    async with db.unit_of_work() as session:
        result = await session.exec(
            sa.update(User)
            .where(col(User.channel) == channel, col(User.external_id) == user_id)
            .values(blocked_at=clock.now() if blocked else None)
        )
        await session.commit()
    return result.rowcount > 0
