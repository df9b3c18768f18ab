"""Engine and session factory. The URL comes from settings or, by default, the embedded server."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from config.settings import Settings

APP_DATABASE = "syntra"


def normalise_url(url: str) -> str:
    """Accept the usual postgres:// and postgresql:// spellings; we always talk through asyncpg."""
    for prefix in (
        "postgresql+asyncpg://",
        "postgresql+psycopg://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.rsplit('@', maxsplit=1)[-1]}")


def resolve_database_urls(settings: Settings, *, database: str = APP_DATABASE) -> tuple[str, str]:
    """(the services' URL, the migrations' URL): DATABASE_URL for both; on the embedded server
    its application role, and the role that owns the schema."""
    if settings.database_url:
        url = normalise_url(settings.database_url)
        return url, url
    from src.database.embedded import embedded_urls

    urls = embedded_urls(database, settings.data_dir)
    return urls.app, urls.owner


def resolve_database_url(
    settings: Settings, *, database: str = APP_DATABASE, owner: bool = False
) -> str:
    app, owner_url = resolve_database_urls(settings, database=database)
    return owner_url if owner else app


def create_engine(url: str, *, pool_size: int = 10, pgbouncer: bool = False) -> AsyncEngine:
    """`pgbouncer`: the URL is a PgBouncer in transaction mode. asyncpg's statement cache is
    then off: its named statements live on one server connection, and the next transaction
    may get another ("prepared statement ... does not exist"); without the cache asyncpg
    sends each statement's Parse with its Bind and Execute (docs/SCALING.md)."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,  # a ping is a round trip on every checkout: too dear for the earn path
        pool_recycle=1800,
        connect_args={"statement_cache_size": 0} if pgbouncer else {},
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
