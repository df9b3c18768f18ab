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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import PointsRules, load_points_rules
from config.settings import PROJECT_ROOT, Settings
from src.bot.fsm_storage import SharedStateStorage
from src.database.engine import (
    DbTimeouts,
    create_engine,
    create_session_factory,
    resolve_database_urls,
)
from src.payment_assembly import build_gateways, build_nowpayments_ipn, build_ton_poller
from src.services.admin_service import AdminService
from src.services.analytics_service import AnalyticsService
from src.services.chart_render import ChartRenderer
from src.services.chart_service import ChartService
from src.services.demo_assistant import DemoAssistant
from src.services.earn_batcher import BatchConfig
from src.services.failures import FailureCounter
from src.services.llm_client import LLMClient
from src.services.market_data import MarketData, build_exchange
from src.services.nowpayments_ipn import NowPaymentsIpn
from src.services.onboarding_service import OnboardingService
from src.services.payment_providers import Gateway
from src.services.payment_service import PaymentService
from src.services.payment_types import Provider
from src.services.periodic_jobs import JobRunner
from src.services.points_service import PointsService
from src.services.quota_service import QuotaService
from src.services.rank_redis import RedisRanks
from src.services.rank_service import RankService
from src.services.ton_poller import TonPoller
from src.services.update_dedupe import PostgresUpdateMarks, RedisUpdateMarks, UpdateMarks
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
    quotas: QuotaService  # daily request quotas per tier (text, vision, chart)
    jobs: JobRunner  # background chores, once across workers; the bot process starts them
    update_marks: UpdateMarks  # webhook updates handled once across workers
    fsm_storage: BaseStorage  # aiogram FSM state: Redis when REDIS_URL is set, else memory
    charts: ChartService  # /chart: the exchange client and the render processes
    payments: PaymentService
    gateways: Mapping[Provider, Gateway]  # the configured payment methods besides Stars
    nowpayments_ipn: NowPaymentsIpn | None = None  # the API's IPN route; None: not configured
    ton_poller: TonPoller | None = None  # a background job when TON_WALLET_ADDRESS is set
    owns_engine: bool = True

    async def close(self) -> None:
        await self.jobs.aclose()
        await self.update_marks.aclose()
        await self.fsm_storage.close()
        await self.charts.aclose()
        if self.ton_poller is not None:
            await self.ton_poller.aclose()
        if self.nowpayments_ipn is not None:
            await self.nowpayments_ipn.aclose()  # IPNs still at work finish first
        for gateway in self.gateways.values():
            await gateway.aclose()
        await self.points.aclose()  # movements still queued for a batch get their answers
        await self.ranks.aclose()
        await self.quotas.aclose()
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
    url, migration_url = database_urls(settings, database_url, engine)
    own_engine = engine is None
    engine = engine or build_engine(settings, url, statements=statements)
    sessions = create_session_factory(engine)
    ranks = build_ranks(settings, engine)
    points = build_points(settings, engine, sessions, rules, ranks, clock)
    users = UserService(session_factory=sessions, clock=clock)
    failures = FailureCounter()
    quotas = QuotaService(
        engine=engine, rules=rules, failures=failures, timezone=settings.timezone, clock=clock
    )
    jobs = build_jobs(engine, failures, quotas)
    payments = PaymentService(session_factory=sessions, points=points, rules=rules, clock=clock)
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
        quotas=quotas,
        jobs=jobs,
        update_marks=build_update_marks(settings, engine, jobs),
        fsm_storage=build_fsm_storage(settings, failures),
        charts=build_charts(settings),
        payments=payments,
        gateways=build_gateways(settings),
        nowpayments_ipn=build_nowpayments_ipn(settings, payments),
        ton_poller=build_ton_poller(settings, payments, sessions, jobs),
        owns_engine=own_engine,
    )


def database_urls(
    settings: Settings, database_url: str | None, engine: AsyncEngine | None
) -> tuple[str, str]:
    """(the services' URL, the migrations' URL)."""
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False)
        return url, url
    if database_url:
        return database_url, database_url
    # The embedded server: the services as its application role, migrations as owner.
    return resolve_database_urls(settings)


def build_charts(settings: Settings) -> ChartService:
    """The chart service: one ccxt exchange client (nothing connects until the first chart)
    and the render pool (no process starts until the first chart or `charts.start()`)."""
    exchange = build_exchange(
        settings.exchange,
        api_url=settings.exchange_api_url,
        timeout_seconds=settings.exchange_timeout_seconds,
    )
    market = MarketData(
        exchange,
        timeout_seconds=settings.exchange_timeout_seconds,
        cache_seconds=settings.exchange_cache_seconds,
    )
    return ChartService(market=market, renderer=ChartRenderer(settings.chart_render_processes))


def build_points(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    rules: PointsRules,
    ranks: RankService,
    clock: Clock | None,
) -> PointsService:
    return PointsService(
        engine=engine,
        session_factory=sessions,
        rules=rules,
        timezone=settings.timezone,
        clock=clock,
        batching=batch_config(settings),
        ranks=ranks,
    )


def build_jobs(engine: AsyncEngine, failures: FailureCounter, quotas: QuotaService) -> JobRunner:
    """The background chores of the services (src/services/periodic_jobs.py)."""
    jobs = JobRunner(engine, failures)
    jobs.add(quotas.purge_job())  # old quota counters and slots
    return jobs


def build_engine(settings: Settings, url: str, *, statements: bool = True) -> AsyncEngine:
    """The process's engine: every wait on the database bounded (DB_*_TIMEOUT_SECONDS)."""
    timeouts = DbTimeouts.of(settings, statements=statements)
    return create_engine(
        url, pool_size=settings.db_pool_size, timeouts=timeouts, pgbouncer=settings.db_pgbouncer
    )


def build_ranks(settings: Settings, engine: AsyncEngine) -> RankService:
    """The rank index: PostgreSQL markers, plus a Redis sorted set when REDIS_URL is set."""
    redis = (
        RedisRanks.from_url(settings.redis_url, prefix=settings.redis_key_prefix)
        if settings.redis_url
        else None
    )
    return RankService(engine=engine, redis=redis)


def build_update_marks(settings: Settings, engine: AsyncEngine, jobs: JobRunner) -> UpdateMarks:
    """Webhook update marks in Redis when REDIS_URL is set, else in PostgreSQL (then purged
    by a background job)."""
    if settings.redis_url:
        return RedisUpdateMarks.from_url(settings.redis_url, prefix=settings.redis_key_prefix)
    marks = PostgresUpdateMarks(engine)
    jobs.add(marks.purge_job())
    return marks


def build_fsm_storage(settings: Settings, failures: FailureCounter) -> BaseStorage:
    """aiogram's FSM state shared by every worker through Redis, or per process in memory."""
    if settings.redis_url:
        return SharedStateStorage.connect(
            settings.redis_url, prefix=settings.redis_key_prefix, failures=failures
        )
    return MemoryStorage()


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
