"""Analytics rollups stay exact when the application clock and the database clock disagree."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import DEFAULT_RULES
from src.services import analytics_service
from src.services.analytics_service import AnalyticsService, TypeTotal
from tests.conftest import ServiceFactory
from tests.support.factories import create_user

SKEW = timedelta(minutes=5)


class _AheadDatetime(datetime):
    """The application host's clock, SKEW ahead of the database server's."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _AheadDatetime:
        real = datetime.now(tz)
        return cls.fromtimestamp((real + SKEW).timestamp(), tz)


async def test_an_application_clock_ahead_of_the_database_loses_no_row(
    make_service: ServiceFactory,
    clean_db: None,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Production wiring (no injected clock): the ledger rows are stamped by the database's
    clock_timestamp(), the watermark by the application's clock. With the application a few
    minutes ahead, a row written right after a refresh was stamped before the watermark yet
    committed after the rollup read: it must still be counted, once."""
    points = make_service(use_clock=False)
    user = await create_user(sessions)
    monkeypatch.setattr(analytics_service, "datetime", _AheadDatetime)
    analytics = AnalyticsService(
        engine=engine, session_factory=sessions, rules=DEFAULT_RULES, timezone="UTC"
    )
    await analytics.refresh_rollups()

    await points.admin_grant(user_id=user, amount=100, admin_id=1)

    expected = [TypeTotal(transaction_type="admin_grant", count=1, total=100)]
    assert await analytics.by_type() == expected
    assert (await analytics.overview()).lifetime_earned == 100
    assert await analytics.by_type() == expected  # and again once the rollups moved on
