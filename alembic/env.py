"""Alembic environment (async). The URL: `-x url=...`, else the settings (or embedded server)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from config.settings import get_settings
from src.database.engine import normalise_url, resolve_database_url
from src.database.models import Base
from src.database.payment_models import Payment  # noqa: F401  (on Base.metadata)
from src.database.ton_models import ton_cursor  # noqa: F401  (on Base.metadata)

target_metadata = Base.metadata


def _url() -> str:
    given = context.get_x_argument(as_dictionary=True).get("url")
    if given:
        return normalise_url(given)
    configured = context.config.attributes.get("url")
    if configured:
        return str(configured)
    return resolve_database_url(get_settings(), owner=True)


# Bot workers apply migrations on start; the lock makes concurrent starts take turns (the
# later ones then find the schema at head). PostgreSQL DDL is transactional: all or nothing.
MIGRATION_LOCK = 0x5359_4E54_4D49


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_async() -> None:
    # No statement cache: migrations are rare, and so they also run through PgBouncer in
    # transaction mode (DB_PGBOUNCER; docs/SCALING.md).
    engine = create_async_engine(_url(), connect_args={"statement_cache_size": 0})
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # called from code that already holds a connection
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
