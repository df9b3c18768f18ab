"""Analytics rollups advance to a watermark instant, not only to the end of a closed day.

`points_rollup_state.rolled_until`: `points_daily_totals` holds exactly the non-zero ledger
rows created before this instant (grouped by local day, the current day included), so the
live part of an analytics read is only the rows since, a few minutes' worth, instead of the
whole of today. `rolled_through` stays: the last local day fully covered.

No index is added: the live part is served by the BRIN index on created_at, and nothing on
points_balances changes (every index there would cost every earn).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "points_rollup_state",
        sa.Column("rolled_until", sa.DateTime(timezone=True), nullable=True),
    )
    # Totals cut at the end of `rolled_through` already hold the rows before that instant.
    op.execute(
        "UPDATE points_rollup_state "
        "SET rolled_until = (rolled_through + 1)::timestamp AT TIME ZONE timezone "
        "WHERE rolled_through IS NOT NULL"
    )


def downgrade() -> None:
    # Totals that reach into the current day are not closed days: rebuild on next read.
    op.execute("DELETE FROM points_daily_totals")
    op.execute("DELETE FROM points_rollup_state")
    op.drop_column("points_rollup_state", "rolled_until")
