"""The TON poller's table (migration 0010), on the models' metadata (kept apart from
models.py only for that file's size)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Table, Text, func

from src.database.models import Base

# The poller's place in a wallet's transactions: the last logical time handled.
ton_cursor = Table(
    "ton_cursor",
    Base.metadata,
    Column("wallet", Text, primary_key=True),
    Column(
        "last_lt",
        BigInteger,
        CheckConstraint("last_lt >= 0", name="lt_non_negative"),
        nullable=False,
    ),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)
