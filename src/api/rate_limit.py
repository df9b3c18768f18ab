"""Per-user rate limits for the API: a token bucket per key.

`RateLimiter` is the seam. `build_limiter(settings)` picks: with REDIS_URL, `RedisLimiter`
(one Lua script doing the same arithmetic on a hash per key, with a TTL), so every API
worker and host draws from one bucket per user; without it the in-process
`TokenBucketLimiter`, which each API worker keeps for itself: with N workers a user may get
up to N x the allowance (docs/API.md). `create_api(..., limiter=...)` replaces either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from config.settings import Settings
from src.services.failures import FailureCounter

log = structlog.get_logger(__name__)


class RateLimiter(Protocol):
    async def hit(self, key: str) -> float | None:
        """Take one request from `key`'s allowance: None if allowed, else seconds to wait."""
        ...

    async def aclose(self) -> None:
        """Release what the limiter holds (a connection pool)."""
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

    async def aclose(self) -> None:
        self._buckets.clear()

    def _forget_full(self, now: float) -> None:
        # A bucket refilled to the brim is the same as no bucket: drop those. If every key is
        # busy (a flood of distinct users), start over rather than grow without bound.
        full_after = self._burst / self._rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
        if len(self._buckets) >= self._max_keys:
            self._buckets.clear()


# TokenBucketLimiter.hit, on a Redis hash {tokens, at} per key, on the Redis server's clock
# (one clock for every worker and host). The hash expires once it would be full again.
# Returns nil when allowed, else the seconds to wait as a string (Lua numbers are truncated
# to integers on the way out).
HIT_SCRIPT = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(b[1]) or burst, tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local ttl = math.ceil(burst / rate) + 1
local wait = false
if tokens < 1 then
  wait = tostring((1 - tokens) / rate)
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], ttl)
return wait
"""


class RedisLimiter:
    """One bucket per key shared by every API worker and host (same arithmetic as
    TokenBucketLimiter, one round trip per request). Redis unreachable: the request is
    allowed (a rate limit is no reason to refuse a user), the failure counted and logged."""

    def __init__(
        self,
        redis: Redis,
        *,
        per_minute: int,
        burst: int,
        prefix: str = "syntra:",
        failures: FailureCounter | None = None,
    ) -> None:
        if per_minute < 1 or burst < 1:
            raise ValueError("per_minute and burst must be at least 1")
        self._redis = redis
        self._args = (per_minute / 60.0, burst)
        self._prefix = f"{prefix}ratelimit:"
        self._failures = failures
        self._script = redis.register_script(HIT_SCRIPT)

    async def hit(self, key: str) -> float | None:
        try:
            wait = await self._script(keys=[self._prefix + key], args=list(self._args))
        except (RedisError, OSError):
            total = self._failures.inc("rate_limit_redis") if self._failures else 1
            if total == 1 or total % 1000 == 0:  # an outage must not write a line per request
                log.warning("rate limit unavailable: requests allowed", failures_total=total)
            return None
        return None if wait is None else float(wait)

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_limiter(settings: Settings, failures: FailureCounter) -> RateLimiter:
    """RedisLimiter with REDIS_URL (one allowance across workers), else in-process buckets."""
    per_minute, burst = settings.api_rate_limit_per_minute, settings.api_rate_limit_burst
    if settings.redis_url:
        return RedisLimiter(
            Redis.from_url(settings.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0),
            per_minute=per_minute,
            burst=burst,
            prefix=settings.redis_key_prefix,
            failures=failures,
        )
    return TokenBucketLimiter(per_minute=per_minute, burst=burst)
