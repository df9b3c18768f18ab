"""The test database: TEST_DATABASE_URL if set, else the embedded server's `syntra_test`."""

from __future__ import annotations

import asyncio
import os

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from config.settings import PROJECT_ROOT, get_settings
from src.database.engine import normalise_url

# One database per test run on the embedded server, so parallel runs never share state.
TEST_DATABASE = f"syntra_test_{os.getpid()}"
LEDGER_TABLES = (
    "points_transactions",
    "points_balances",
    "users",
    "admin_actions",
    "points_daily_totals",
    "points_rollup_state",
    "points_rank_markers",
    "points_rank_state",
    "bot_update_marks",
    "request_quotas",
    "request_quota_slots",
    "ton_cursor",
    "payment_events",  # no foreign key to users: not reached by the cascade
)


def test_database_urls() -> tuple[str, str]:
    """(the services' URL, the schema owner's URL), as production resolves them: on the
    embedded server the application role and the owner; TEST_DATABASE_URL for both."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        return normalise_url(given), normalise_url(given)
    from src.database.embedded import embedded_urls

    urls = embedded_urls(TEST_DATABASE, get_settings().data_dir)
    return urls.app, urls.owner


def test_database_url() -> str:
    """The owner's URL: migrations, resets, and bot processes given it as DATABASE_URL."""
    return test_database_urls()[1]


def drop_test_database() -> None:
    """Drop this run's embedded database (a TEST_DATABASE_URL server is left as it is)."""
    if os.environ.get("TEST_DATABASE_URL"):
        return
    import subprocess

    from src.database.embedded import ensure_running

    server = ensure_running(get_settings().data_dir)
    subprocess.run(
        [
            *server.psql_args("postgres"),
            "-qc",
            f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)',
        ],
        check=False,
        capture_output=True,
    )


def alembic_config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    return cfg


def reset_schema(url: str) -> None:
    """Start every test session from an empty database migrated to head."""

    async def drop() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
            # What a new database's public schema allows (PostgreSQL 15+): use, not create.
            await conn.execute(text("GRANT USAGE ON SCHEMA public TO PUBLIC"))
        await engine.dispose()

    asyncio.run(drop())
    command.upgrade(alembic_config(url), "head")


TRUNCATE = text(f"TRUNCATE {', '.join(LEDGER_TABLES)} RESTART IDENTITY CASCADE")
