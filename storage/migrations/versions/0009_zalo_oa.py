"""zalo oa: token pair and followers

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 06:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may reference sqlmodel.sql.sqltypes)
from alembic import op

import storage.models  # noqa: F401

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "zalo_oa_tokens",
        sa.Column("app_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("access_token", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("refresh_token", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("expires_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("refreshes", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("code_verifier", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("updated_at", storage.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("app_id"),
    )
    op.create_table(
        "zalo_oa_followers",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("last_interaction_at", storage.models.UTCDateTime(), nullable=True),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("zalo_oa_followers")
    op.drop_table("zalo_oa_tokens")
