"""inbound events: when a turn began, so other processes hold a chat's next update back
until its answer has left

Revision ID: 0019_inbound_turn_started
Revises: 0018_desk_jobs
Create Date: 2026-12-03 07:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0019_inbound_turn_started"
down_revision: str | None = "0018_desk_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inbound_events",
                  sa.Column("started_at", storage.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_column("started_at")
