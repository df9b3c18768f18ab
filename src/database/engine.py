"""Engine and session factory. The URL comes from settings or, by default, the embedded server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True, slots=True)
class DbTimeouts:
    """How long a process may wait on the database, in seconds (docs/RELIABILITY.md).

    `connect`: a new connection (asyncpg's connect timeout) and a free pool slot; `statement`:
    the server's `statement_timeout`, and asyncpg's `command_timeout` a second later for a
    server that stops answering altogether (0: neither); `lock`: the server's `lock_timeout`.
    """

    connect: float = 5
    statement: float = 15
    lock: float = 3

    @classmethod
    def of(cls, settings: Settings, *, statements: bool = True) -> DbTimeouts:
        """The settings' timeouts; `statements=False` for operator commands (audit, rebuilds)
        that may legitimately read for minutes."""
        return cls(
            connect=settings.db_connect_timeout_seconds,
            statement=settings.db_statement_timeout_seconds if statements else 0,
            lock=settings.db_lock_timeout_seconds,
        )

    def connect_args(self, *, server_side: bool = True) -> dict[str, Any]:
        """asyncpg's connect arguments. `server_side=False` (PgBouncer in transaction mode,
        which refuses these startup parameters): the client-side bounds only; set
        `lock_timeout` and `statement_timeout` on the database role instead."""
        server = {"lock_timeout": _ms(self.lock)}
        args: dict[str, Any] = {"timeout": self.connect}
        if self.statement:
            server["statement_timeout"] = _ms(self.statement)
            args["command_timeout"] = self.statement + 1
        if server_side:
            args["server_settings"] = server
        return args


def _ms(seconds: float) -> str:
    return str(max(1, round(seconds * 1000)))


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    timeouts: DbTimeouts | None = None,
    pgbouncer: bool = False,
) -> AsyncEngine:
    """`timeouts`: bounded waits (the bot's and the API's engine); None: asyncpg's defaults
    (benchmarks and tools that own their database).

    `pgbouncer`: the URL is a PgBouncer in transaction mode. asyncpg's statement cache is
    then off: its named statements live on one server connection, and the next transaction
    may get another ("prepared statement ... does not exist"); without the cache asyncpg
    sends each statement's Parse with its Bind and Execute (docs/SCALING.md).

    At most 2 x `pool_size` connections (DB_POOL_SIZE), each kept once opened. Not pool_size +
    max_overflow: SQLAlchemy closes an overflow connection as soon as it is returned to a full
    pool, so a load that keeps a little more than `pool_size` busy opened and closed a
    connection every few requests (PostgreSQL forks a backend and authenticates each time):
    one new connection per 10 API balance reads at 32 clients, close to half of the API
    process's CPU (docs/PERFORMANCE.md, API). The ceiling is the same as before."""
    connect_args: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if timeouts is not None:
        connect_args = timeouts.connect_args(server_side=not pgbouncer)
        extra["pool_timeout"] = timeouts.connect
    if pgbouncer:
        connect_args["statement_cache_size"] = 0
    return create_async_engine(
        url,
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_pre_ping=False,  # a ping is a round trip on every checkout: too dear for the earn path
        pool_recycle=1800,
        connect_args=connect_args,
        **extra,
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
