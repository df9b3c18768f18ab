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


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """At most 2 x `pool_size` connections (DB_POOL_SIZE), each kept once opened.

    Not pool_size + max_overflow: SQLAlchemy closes an overflow connection as soon as it is
    returned to a full pool, so a load that keeps a little more than `pool_size` busy opened
    and closed a connection every few requests (PostgreSQL forks a backend and authenticates
    each time): one new connection per 10 API balance reads at 32 clients, close to half of
    the API process's CPU (docs/PERFORMANCE.md, API). The ceiling is the same as before.
    """
    return create_async_engine(
        url,
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_pre_ping=False,  # a ping is a round trip on every checkout: too dear for the earn path
        pool_recycle=1800,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
