"""Counts failures that were absorbed so the user's answer could still go out.

The bot never lets a points or database failure break a reply (SPEC 6); such failures are
logged with context and counted here, so operators can see them (logs, status, the API).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable
from typing import Any, TypeVar

import structlog

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
        total = failures.inc(kind)
        log.exception("non-blocking failure absorbed", kind=kind, failures_total=total, **context)
        return None
