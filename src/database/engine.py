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


def resolve_database_url(settings: Settings, *, database: str = APP_DATABASE) -> str:
    if settings.database_url:
        return normalise_url(settings.database_url)
    from src.database.embedded import embedded_url

    return embedded_url(database, settings.data_dir)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,  # a ping is a round trip on every checkout: too dear for the earn path
        pool_recycle=1800,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
