"""Builds the long-lived objects every entry point shares (bot, API, console, CLI tools).

One place decides how settings, the rules, the database and the services fit together, so the
bot, the API and the tests all run the same wiring.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import PointsRules, load_points_rules
from config.settings import PROJECT_ROOT, Settings
from src.database.engine import create_engine, create_session_factory, resolve_database_urls
from src.services.points_service import PointsService
from src.services.user_service import UserService


@dataclass
class AppContext:
    settings: Settings
    rules: PointsRules
    database_url: str
    migration_url: str  # the schema owner's: on the embedded server, not the app's role
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    points: PointsService
    users: UserService

    async def close(self) -> None:
        await self.engine.dispose()


def build_context(settings: Settings, *, database_url: str | None = None) -> AppContext:
    """Wire everything from settings. Raises SettingsError/PointsConfigError on bad config."""
    rules = load_points_rules(settings.points_config_file)
    url, migration_url = (
        (database_url, database_url) if database_url else resolve_database_urls(settings)
    )
    engine = create_engine(url, pool_size=settings.db_pool_size)
    sessions = create_session_factory(engine)
    return AppContext(
        settings=settings,
        rules=rules,
        database_url=url,
        migration_url=migration_url,
        engine=engine,
        sessions=sessions,
        points=PointsService(
            engine=engine, session_factory=sessions, rules=rules, timezone=settings.timezone
        ),
        users=UserService(session_factory=sessions),
    )


def migrate(database_url: str) -> None:
    """alembic upgrade head (synchronous: call before the event loop or in a thread)."""
    cfg = Config(str(Path(PROJECT_ROOT) / "alembic.ini"))
    cfg.attributes["url"] = database_url
    command.upgrade(cfg, "head")


async def prepare_database(context: AppContext) -> None:
    """Apply migrations and make points_levels mirror the rules in force."""
    await asyncio.to_thread(migrate, context.migration_url)
    await context.points.sync_levels()
