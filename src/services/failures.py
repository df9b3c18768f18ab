"""Counts failures that were absorbed so the user's answer could still go out.

The bot never lets a points or database failure break a reply (SPEC 6); such failures are
logged with context and counted here, so operators can see them (logs, status, the API).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Awaitable
from typing import Any, TypeVar

import structlog

from src.database.connection_errors import database_unavailable
from src.metrics import FAILURES_ABSORBED

log = structlog.get_logger(__name__)
T = TypeVar("T")


class FailureCounter:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def inc(self, kind: str) -> int:
        self._counts[kind] += 1
        FAILURES_ABSORBED.labels(kind).inc()
        return self._counts[kind]

    def get(self, kind: str) -> int:
        return self._counts[kind]

    def snapshot(self) -> dict[str, int]:
        return dict(self._counts)


async def absorb(
    failures: FailureCounter, kind: str, call: Awaitable[T], **context: Any
) -> T | None:
    """Await `call`; on any error log it with context, count it and return None."""
    try:
        return await call
    except Exception:
        record_failure(failures, kind, "non-blocking failure absorbed", **context)
        return None


def record_failure(failures: FailureCounter, kind: str, message: str, **context: Any) -> int:
    """Count and log the exception being handled (call it from an `except` block).

    A database that is unreachable, hung or locked is an expected, bounded failure: one error
    line with the reason, no traceback (rendering one can hold the event loop for a second,
    every user's answer with it). Anything else keeps its traceback.
    """
    error = sys.exc_info()[1]
    total = failures.inc(kind)
    reason = database_unavailable(error) if error is not None else None
    if reason is None:
        log.exception(message, kind=kind, failures_total=total, **context)
    else:
        log.error(
            message,
            kind=kind,
            reason=reason,
            error=repr(error)[:300],
            failures_total=total,
            **context,
        )
    return total
