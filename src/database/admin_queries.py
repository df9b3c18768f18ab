"""Queries over `admin_actions` (admin grants/deducts awaiting or past confirmation).

No rules here: src/services/admin_service.py decides what to write and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from src.database.models import AdminAction


@dataclass(frozen=True, slots=True)
class ActionRow:
    id: int
    admin_id: int
    action: str
    user_id: int
    amount: int
    description: str
    status: str
    created_at: datetime

    @classmethod
    def of(cls, row: AdminAction) -> ActionRow:
        return cls(
            row.id,
            row.admin_id,
            row.action,
            row.user_id,
            row.amount,
            row.description,
            row.status,
            row.created_at,
        )


async def insert_pending(
    session: AsyncSession,
    *,
    admin_id: int,
    action: str,
    user_id: int,
    amount: int,
    description: str,
    created_at: datetime,
    source_key: str | None,
) -> ActionRow:
    """A new pending action, or the one an earlier delivery of the same command made
    (same admin and `source_key`)."""
    new_id = await session.scalar(
        insert(AdminAction)
        .values(
            admin_id=admin_id,
            action=action,
            user_id=user_id,
            amount=amount,
            description=description,
            created_at=created_at,
            source_key=source_key,
        )
        .on_conflict_do_nothing(
            index_elements=[AdminAction.admin_id, AdminAction.source_key],
            index_where=AdminAction.source_key.is_not(None),
        )
        .returning(AdminAction.id)
    )
    condition = (
        AdminAction.id == new_id
        if new_id is not None
        else (AdminAction.admin_id == admin_id) & (AdminAction.source_key == source_key)
    )
    row = await session.scalar(select(AdminAction).where(condition))
    assert row is not None
    return ActionRow.of(row)


async def lock_action(session: AsyncSession, action_id: int) -> ActionRow | None:
    """The action, locked until the session's transaction ends (FOR UPDATE)."""
    row = await session.get(AdminAction, action_id, with_for_update=True)
    return ActionRow.of(row) if row is not None else None


async def set_status(
    session: AsyncSession, action_id: int, *, status: str, decided_at: datetime
) -> None:
    await session.execute(
        update(AdminAction)
        .where(AdminAction.id == action_id)
        .values(status=status, decided_at=decided_at)
    )
