"""notices: every broadcast names its sender; a session's invitation is a broadcast

Revision ID: 0010_notices
Revises: 0009
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may reference sqlmodel.sql.sqltypes)
from alembic import op

revision: str = "0010_notices"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=200),
                                   nullable=False, server_default=""))
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_broadcasts_session_id", "dialogue_sessions",
                                 ["session_id"], ["id"])
        batch.create_index("ix_broadcasts_session_id", ["session_id"])


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_index("ix_broadcasts_session_id")
        batch.drop_constraint("fk_broadcasts_session_id", type_="foreignkey")
        batch.drop_column("session_id")
        batch.drop_column("sender")
