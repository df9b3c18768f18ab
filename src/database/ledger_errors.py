"""Which database errors a ledger call may simply repeat.

A repeat is always safe: the idempotency key turns a call that did commit into a replay.
"""

from __future__ import annotations

from typing import Final

import asyncpg
from sqlalchemy.exc import DBAPIError

# 40001 serialization_failure, 40P01 deadlock_detected: nothing was written.
RETRYABLE_SQLSTATES: Final = frozenset({"40001", "40P01"})
CONNECTION_LOST: Final = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
    # What asyncpg raises when the server ended the session between two calls.
    asyncpg.exceptions.InternalClientError,
    # ... and during one: terminated, the server shutting down or crashed (class 57P).
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)


def sqlstate(exc: BaseException) -> str | None:
    # asyncpg errors carry it themselves; SQLAlchemy wraps the driver's error in `.orig`.
    source = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(source, "sqlstate", None) or getattr(source, "pgcode", None)
