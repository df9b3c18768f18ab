"""points_levels mirrors the rules in force, even when several workers start at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES
from src.database.models import PointsLevel
from tests.conftest import ServiceFactory


async def test_concurrent_syncs_leave_the_configured_levels(
    make_service: ServiceFactory, clean_db: None, sessions: async_sessionmaker[AsyncSession]
) -> None:
    levels = [lvl.model_dump() for lvl in DEFAULT_RULES.levels]
    levels[1]["name_en"] = "Apprentice trader"
    rules = DEFAULT_RULES.model_copy(
        update={"levels": tuple(type(DEFAULT_RULES.levels[0])(**lvl) for lvl in levels)}
    )
    services = [make_service(rules=rules) for _ in range(6)]
    await asyncio.gather(*(service.sync_levels() for service in services))
    async with sessions() as session:
        rows = (await session.scalars(select(PointsLevel).order_by(PointsLevel.level))).all()
    assert [r.points_required for r in rows] == [0, 1000, 5000, 15000, 50000, 150000]
    assert rows[1].name_en == "Apprentice trader"
