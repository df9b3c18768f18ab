"""Per-user rate limits for the API: a token bucket per key.

`RateLimiter` is the seam: the in-process `TokenBucketLimiter` is right for one API process
(the default). Several workers or hosts would each count on their own; a Redis-backed class
with the same `hit()` (one Lua script doing the same arithmetic on a hash per key, with a TTL)
plugs in through `create_api(..., limiter=...)` without touching the routes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    async def hit(self, key: str) -> float | None:
        """Take one request from `key`'s allowance: None if allowed, else seconds to wait."""
        ...


class TokenBucketLimiter:
    """`burst` requests at once, refilled at `per_minute` a minute; bounded memory.

    Single-threaded asyncio: no await between reading and writing a bucket, so no lock.
    """

    def __init__(
        self,
        *,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if per_minute < 1 or burst < 1:
            raise ValueError("per_minute and burst must be at least 1")
        self._rate = per_minute / 60.0  # tokens per second
        self._burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    async def hit(self, key: str) -> float | None:
        now = self._clock()
        tokens, at = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self._rate
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            self._forget_full(now)
        self._buckets[key] = (tokens - 1.0, now)
        return None

    def _forget_full(self, now: float) -> None:
        # A bucket refilled to the brim is the same as no bucket: drop those. If every key is
        # busy (a flood of distinct users), start over rather than grow without bound.
        full_after = self._burst / self._rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        if len(self._buckets) >= self._max_keys:
            self._buckets.clear()
