"""What went wrong reaching the database, in one line an operator can act on.

`describe_database_failure(exc, url)` turns the failures an operator meets (server down, a
database not created yet, a refused login, missing privileges) into a sentence naming the
server (never the password) and what to do; anything else is None, a bug to keep loud.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

DEPLOYMENT_DOC = "docs/DEPLOYMENT.md"


# lock_timeout and statement_timeout (DB_LOCK_TIMEOUT_SECONDS, DB_STATEMENT_TIMEOUT_SECONDS)
_BOUNDED_WAITS = {"55P03": "lock timeout", "57014": "statement timeout"}
_UNREACHABLE = (
    OSError,  # ConnectionRefusedError, and TimeoutError (asyncpg's connect timeout)
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
)


def database_unavailable(exc: BaseException) -> str | None:
    """A short reason when `exc` is the database being unreachable, hung or locked: a bounded,
    expected failure ("lock timeout", "statement timeout", "unreachable"); else None."""
    for error in _causes(exc):
        state = getattr(error, "sqlstate", None)
        if state in _BOUNDED_WAITS:
            return _BOUNDED_WAITS[state]
        if isinstance(error, SQLAlchemyTimeoutError):
            return "no free connection"
        if isinstance(error, _UNREACHABLE):
            return "unreachable"
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, what it wraps (SQLAlchemy's `.orig`) and what caused it, each once."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        error = stack.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        stack += [e for e in (error.__cause__, error.__context__) if e is not None]
        if isinstance(error, DBAPIError) and isinstance(error.orig, BaseException):
            stack.append(error.orig)


class _Target:
    """Where the URL points: host:port, database and user (the password is never kept)."""

    def __init__(self, url: str | None) -> None:
        # No URL: DATABASE_URL is unset, so the embedded server was meant.
        self.where, self.database, self.user = "the embedded PostgreSQL", "syntra", "postgres"
        self.host, self.port = "localhost", 5432
        if not url:
            return
        try:
            parsed = make_url(url)
        except ArgumentError:
            return
        self.database = parsed.database or "?"
        self.user = parsed.username or "?"
        socket_dir = parsed.query.get("host")
        if parsed.host:
            self.host, self.port = parsed.host, parsed.port or 5432
            self.where = f"{self.host}:{self.port}"
        elif isinstance(socket_dir, str):
            self.where = f"the embedded PostgreSQL (socket in {socket_dir})"


def describe_database_failure(exc: BaseException, url: str | None) -> str | None:
    """One line for an expected failure to reach or use the database; None for anything else."""
    target = _Target(url)
    for error in _causes(exc):
        reason = _describe(error, target)
        if reason is not None:
            return reason
    return None


def _describe(error: BaseException, target: _Target) -> str | None:
    where = target.where
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return (
            f'database "{target.database}" does not exist on {where}: create it as a '
            f"PostgreSQL superuser, e.g. sudo -u postgres createdb -O {target.user} "
            f"{target.database} ({DEPLOYMENT_DOC}), then run this again"
        )
    if isinstance(
        error,
        asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError,
    ):
        return f"{where} refused the login of user {target.user} ({error}): check DATABASE_URL"
    if isinstance(error, asyncpg.InsufficientPrivilegeError):
        return (
            f"user {target.user} lacks a privilege on {where} ({error}): the role must own "
            f"the database ({DEPLOYMENT_DOC})"
        )
    if isinstance(error, asyncpg.CannotConnectNowError | asyncpg.TooManyConnectionsError):
        return f"{where} turned the connection away ({error}): try again in a moment"
    if isinstance(error, socket.gaierror):
        return f"cannot find the database host {target.host} ({error.strerror}): check DATABASE_URL"
    if isinstance(error, TimeoutError):
        return f"{where} did not answer in time: is it reachable from here? Check DATABASE_URL"
    if isinstance(error, ConnectionError) or (
        isinstance(error, OSError) and "Connect call failed" in str(error)
    ):
        return (
            f"cannot connect to {where} (connection refused): is PostgreSQL running there? "
            "Check DATABASE_URL"
        )
    return None
