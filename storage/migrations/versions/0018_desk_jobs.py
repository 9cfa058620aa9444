"""web desk jobs in the database: any process behind the load balancer shows a job's progress

Revision ID: 0018_desk_jobs
Revises: 0017_web_desk
Create Date: 2026-12-03 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may reference sqlmodel.sql.sqltypes)
from alembic import op

import storage.models  # noqa: F401

revision: str = "0018_desk_jobs"
down_revision: str | None = "0017_web_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    when = storage.models.UTCDateTime
    op.create_table(
        "desk_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", text(length=64), nullable=False),
        sa.Column("owner", text(length=100), nullable=False),
        sa.Column("title", text(length=200), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("message", text(length=2000), nullable=False),
        sa.Column("file", text(length=500), nullable=False),
        sa.Column("filename", text(length=200), nullable=False),
        sa.Column("back", text(length=1000), nullable=False),
        sa.Column("started_at", when(), nullable=False),
        sa.Column("updated_at", when(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_index("ix_desk_jobs_started_at", "desk_jobs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_desk_jobs_started_at", table_name="desk_jobs")
    op.drop_table("desk_jobs")
