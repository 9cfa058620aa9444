"""turns: inbound events keep their outcome, lease and chat; conversations their last press

Revision ID: 0015_turns_leases_outcomes
Revises: 0013_open311_api_keys
Create Date: 2026-12-02 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may reference sqlmodel.sql.sqltypes)
from alembic import op

import storage.models

revision: str = "0015_turns_leases_outcomes"
down_revision: str | None = "0013_open311_api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_events") as batch:
        batch.add_column(sa.Column("chat_key", sqlmodel.sql.sqltypes.AutoString(length=100),
                                   nullable=True))
        batch.add_column(sa.Column("outcome", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=64),
                                   nullable=True))
        batch.add_column(sa.Column("leased_until", storage.models.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200),
                                   nullable=True))
        batch.create_index("ix_inbound_events_chat", ["channel", "chat_key", "status"])
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("last_press", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("last_press")
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_index("ix_inbound_events_chat")
        for column in ("reason", "leased_until", "lease_owner", "outcome", "chat_key"):
            batch.drop_column(column)
