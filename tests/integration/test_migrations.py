"""Migrations: the stairway (up, down, up) and "the models equal the migrations"."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from config.settings import PROJECT_ROOT
from src.database.models import Base
from src.database.payment_models import Payment  # noqa: F401  (on Base.metadata)
from src.database.ton_models import ton_cursor  # noqa: F401  (on Base.metadata)
from tests.support.database import alembic_config


async def _scalar(url: str, sql: str) -> object:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        value = await conn.scalar(text(sql))
    await engine.dispose()
    return value


def test_stairway_upgrade_downgrade_upgrade(database_url: str) -> None:
    cfg = alembic_config(database_url)
    command.downgrade(cfg, "base")
    assert asyncio.run(_scalar(database_url, "SELECT to_regclass('points_transactions')")) is None
    assert asyncio.run(_scalar(database_url, "SELECT to_regproc('points_move')")) is None
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "-1")
    command.upgrade(cfg, "head")
    assert asyncio.run(_scalar(database_url, "SELECT count(*) FROM points_levels")) == 6
    assert (
        asyncio.run(_scalar(database_url, "SELECT to_regproc('points_earn_request')")) is not None
    )


# What a downgrade must restore exactly: tables and columns, constraints, indexes, functions.
SCHEMA_SNAPSHOT = """
SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type
       || ' null=' || is_nullable || ' default=' || coalesce(column_default, '')
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid))
  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
ORDER BY 1
"""


async def _snapshot(url: str) -> list[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = (await conn.execute(text(SCHEMA_SNAPSHOT))).scalars().all()
    await engine.dispose()
    return list(rows)


def test_every_revision_steps_up_down_and_up_again(database_url: str) -> None:
    """For each revision in order: upgrade to it, downgrade one step, upgrade again. The
    downgrade must leave exactly the schema the revision found, and the upgrade must apply
    again on top of it."""
    cfg = alembic_config(database_url)
    revisions = list(reversed(list(ScriptDirectory.from_config(cfg).walk_revisions())))
    command.downgrade(cfg, "base")
    try:
        for revision in revisions:
            before = asyncio.run(_snapshot(database_url))
            command.upgrade(cfg, revision.revision)
            after = asyncio.run(_snapshot(database_url))
            command.downgrade(cfg, revision.down_revision or "base")
            assert asyncio.run(_snapshot(database_url)) == before, revision.revision
            command.upgrade(cfg, revision.revision)
            assert asyncio.run(_snapshot(database_url)) == after, revision.revision
    finally:
        command.upgrade(cfg, "head")


def test_models_equal_migrations(database_url: str) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async def run() -> list[object]:
        engine = create_async_engine(database_url)
        async with engine.connect() as conn:
            result = await conn.run_sync(diff)
        await engine.dispose()
        return result

    assert asyncio.run(run()) == []


def test_concurrent_upgrades_take_turns(database_url: str) -> None:
    """Workers starting together each run `upgrade head`; none may fail or half-apply.

    Separate processes, as in production (alembic's context is process-global)."""
    command.downgrade(alembic_config(database_url), "base")
    alembic = str(Path(sys.executable).with_name("alembic"))
    procs = [
        subprocess.Popen(
            [alembic, "-x", f"url={database_url}", "upgrade", "head"],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert asyncio.run(_scalar(database_url, "SELECT count(*) FROM points_levels")) == 6
