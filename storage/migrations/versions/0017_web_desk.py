"""web desk: one-time sign-in links, browser sessions, log indexes for the desk's filters

Revision ID: 0017_web_desk
Revises: 0016_send_slots_deployment_facts
Create Date: 2026-12-02 16:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may reference sqlmodel.sql.sqltypes)
from alembic import op

import storage.models  # noqa: F401

revision: str = "0017_web_desk"
down_revision: str | None = "0016_send_slots_deployment_facts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    when = storage.models.UTCDateTime
    op.create_table(
        "web_sign_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", text(length=64), nullable=False),
        sa.Column("channel", text(length=20), nullable=False),
        sa.Column("user_id", text(length=64), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("expires_at", when(), nullable=False),
        sa.Column("used_at", when(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", text(length=64), nullable=False),
        sa.Column("channel", text(length=20), nullable=False),
        sa.Column("user_id", text(length=64), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.Column("expires_at", when(), nullable=False),
        sa.Column("ended_at", when(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_web_sessions_channel", "web_sessions", ["channel"])
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_index("ix_interaction_log_kind_id", "interaction_log", ["kind", "id"])
    op.create_index("ix_interaction_log_actor_id", "interaction_log", ["actor", "id"])


def downgrade() -> None:
    op.drop_index("ix_interaction_log_actor_id", table_name="interaction_log")
    op.drop_index("ix_interaction_log_kind_id", table_name="interaction_log")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_index("ix_web_sessions_channel", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("web_sign_ins")
