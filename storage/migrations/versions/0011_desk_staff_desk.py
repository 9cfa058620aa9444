"""staff desk: staff display names, drafts of answers and reasons given in the chat

Revision ID: 0011_desk
Revises: 0010_notices
Create Date: 2026-12-02 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may reference sqlmodel.sql.sqltypes)
from alembic import op

import storage.models  # noqa: F401

revision: str = "0011_desk"
down_revision: str | None = "0010_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("role_grants") as batch:
        batch.add_column(sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120),
                                   nullable=True))
    op.create_table(
        "desk_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("petition_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["petition_id"], ["petitions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "chat_id", "user_id", name="uq_desk_drafts_person"),
    )


def downgrade() -> None:
    op.drop_table("desk_drafts")
    with op.batch_alter_table("role_grants") as batch:
        batch.drop_column("name")
