"""rights: processed inbound updates keep only their id and kind, no personal text

Revision ID: 0012_rights
Revises: 0011_desk
Create Date: 2026-12-02 13:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_rights"
down_revision: str | None = "0011_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Updates processed before this version kept the whole raw update (texts, names).
    op.execute("UPDATE inbound_events SET payload = '{}' WHERE status = 'done'")


def downgrade() -> None:
    pass  # what was erased stays erased
