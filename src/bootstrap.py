"""The one assembly point: `build_context(settings)` builds every long-lived object.

bot.py, the console, the CLI tools, the tests (and the API process) all call it, so they all
run the same wiring: one engine and session factory, one instance of every service, one LLM
client, one failure counter. Entry points add only what is theirs (the `Bot`, a web server);
`src/bot/dispatcher.create_dispatcher(context)` hands the context's objects to the handlers.

Tests override only what they must: the database (`engine=` shares the test run's engine) and
the clock (`clock=` freezes time); everything else comes from `Settings` as in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import PointsRules, load_points_rules
from config.settings import PROJECT_ROOT, Settings
from src.database.engine import (
    DbTimeouts,
    create_engine,
    create_session_factory,
    resolve_database_urls,
)
from src.services.admin_service import AdminService
from src.services.analytics_service import AnalyticsService
from src.services.demo_assistant import DemoAssistant
from src.services.earn_batcher import BatchConfig
from src.services.failures import FailureCounter
from src.services.llm_client import LLMClient
from src.services.onboarding_service import OnboardingService
from src.services.periodic_jobs import JobRunner
from src.services.points_service import PointsService
from src.services.rank_redis import RedisRanks
from src.services.rank_service import RankService
from src.services.user_service import UserService

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AppContext:
    """Everything a process shares for its lifetime; `close()` releases it."""

    settings: Settings
    rules: PointsRules
    database_url: str
    migration_url: str  # the schema owner's: on the embedded server, not the app's role
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    points: PointsService
    users: UserService
    onboarding: OnboardingService
    admin: AdminService
    analytics: AnalyticsService
    llm: LLMClient
    failures: FailureCounter
    ranks: RankService
    jobs: JobRunner  # background chores, once across workers; the bot process starts them
    owns_engine: bool = True

    async def close(self) -> None:
        await self.jobs.aclose()
        await self.points.aclose()  # movements still queued for a batch get their answers
        await self.ranks.aclose()
        await self.llm.aclose()
        if self.owns_engine:
            await self.engine.dispose()


def build_context(
    settings: Settings,
    *,
    database_url: str | None = None,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
    statements: bool = True,
) -> AppContext:
    """Wire everything from settings. Raises PointsConfigError on a bad rules file.

    `engine` shares an existing engine (it is then not disposed by `close()`); `clock` replaces
    the wall and database clocks (tests); `statements=False`: no statement timeout (the
    audit reads the whole ledger). Nothing here connects: the first query does.
    """
    rules = load_points_rules(settings.points_config_file)
    if engine is not None:
        url = migration_url = engine.url.render_as_string(hide_password=False)
    elif database_url:
        url = migration_url = database_url
    else:  # the embedded server: the services as its application role, migrations as owner
        url, migration_url = resolve_database_urls(settings)
    own_engine = engine is None
    engine = engine or build_engine(settings, url, statements=statements)
    sessions = create_session_factory(engine)
    ranks = build_ranks(settings, engine)
    points = PointsService(
        engine=engine,
        session_factory=sessions,
        rules=rules,
        timezone=settings.timezone,
        clock=clock,
        batching=batch_config(settings),
        ranks=ranks,
    )
    users = UserService(session_factory=sessions, clock=clock)
    failures = FailureCounter()
    return AppContext(
        settings=settings,
        rules=rules,
        database_url=url,
        migration_url=migration_url,
        engine=engine,
        sessions=sessions,
        points=points,
        users=users,
        onboarding=OnboardingService(users=users, points=points, failures=failures),
        admin=AdminService(points=points, session_factory=sessions, rules=rules),
        analytics=AnalyticsService(
            engine=engine,
            session_factory=sessions,
            rules=rules,
            timezone=settings.timezone,
            clock=clock,
        ),
        llm=build_llm(settings),
        failures=failures,
        ranks=ranks,
        jobs=JobRunner(engine, failures),
        owns_engine=own_engine,
    )


def build_engine(settings: Settings, url: str, *, statements: bool = True) -> AsyncEngine:
    """The process's engine: every wait on the database bounded (DB_*_TIMEOUT_SECONDS)."""
    timeouts = DbTimeouts.of(settings, statements=statements)
    return create_engine(url, pool_size=settings.db_pool_size, timeouts=timeouts)


def build_ranks(settings: Settings, engine: AsyncEngine) -> RankService:
    """The rank index: PostgreSQL markers, plus a Redis sorted set when REDIS_URL is set."""
    redis = (
        RedisRanks.from_url(settings.redis_url, prefix=settings.redis_key_prefix)
        if settings.redis_url
        else None
    )
    return RankService(engine=engine, redis=redis)


def batch_config(settings: Settings) -> BatchConfig | None:
    """Group commit for points movements (POINTS_BATCHING), or None: every call alone."""
    if not settings.points_batching:
        return None
    return BatchConfig(
        max_items=settings.points_batch_size, flushers=settings.points_batch_flushers
    )


def build_llm(settings: Settings) -> LLMClient:
    """The assistant's client: the offline demo for LLM_BASE_URL=demo, else the API's."""
    if settings.llm_demo:
        return DemoAssistant()
    return LLMClient.from_settings(settings)


def migrate(database_url: str) -> None:
    """alembic upgrade head (synchronous: call before the event loop or in a thread)."""
    cfg = Config(str(Path(PROJECT_ROOT) / "alembic.ini"))
    cfg.attributes["url"] = database_url
    command.upgrade(cfg, "head")


async def prepare_database(context: AppContext) -> None:
    """Apply migrations and make points_levels mirror the rules in force."""
    await asyncio.to_thread(migrate, context.migration_url)
    await context.points.sync_levels()
