"""RedisLimiter: the token bucket of TokenBucketLimiter on a Redis hash, shared by every API
worker (two limiters here stand for two workers); a Redis outage lets requests through.

The shared-bucket tests need TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/9).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from src.api.rate_limit import RedisLimiter
from src.services.failures import FailureCounter

REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/9) to test Redis"
)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    name = f"syntra-test-{uuid.uuid4().hex[:8]}:"
    yield name
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    keys = [key async for key in redis.scan_iter(f"{name}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def limiter(prefix: str, *, per_minute: int = 60, burst: int = 3) -> RedisLimiter:
    assert REDIS_URL is not None
    return RedisLimiter(
        Redis.from_url(REDIS_URL), per_minute=per_minute, burst=burst, prefix=prefix
    )


@needs_redis
async def test_two_workers_draw_from_one_bucket(prefix: str) -> None:
    first, second = limiter(prefix), limiter(prefix)
    try:
        answers = [await (first if i % 2 else second).hit("user:1") for i in range(4)]
        assert answers[:3] == [None, None, None]
        wait = answers[3]
        assert wait is not None and 0.9 < wait <= 1.0  # one token a second at 60 a minute
        assert await first.hit("user:2") is None  # another user has a bucket of its own
    finally:
        await first.aclose()
        await second.aclose()


@needs_redis
async def test_the_bucket_refills_and_expires_once_full(prefix: str) -> None:
    fast = limiter(prefix, per_minute=6000, burst=2)  # 100 tokens a second
    try:
        assert await fast.hit("user:1") is None
        assert await fast.hit("user:1") is None
        assert await fast.hit("user:1") is not None
        assert REDIS_URL is not None
        redis = Redis.from_url(REDIS_URL)
        ttl = await redis.ttl(f"{prefix}ratelimit:user:1")
        await redis.aclose()
        assert 0 < ttl <= 2  # gone once it would be full again: no key lives forever
        await asyncio.sleep(0.05)
        assert await fast.hit("user:1") is None
    finally:
        await fast.aclose()


async def test_redis_down_lets_requests_through_and_counts_it() -> None:
    failures = FailureCounter()
    down = RedisLimiter(
        Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5),
        per_minute=60,
        burst=1,
        failures=failures,
    )
    try:
        assert [await down.hit("user:1") for _ in range(3)] == [None, None, None]
        assert failures.get("rate_limit_redis") == 3
    finally:
        await down.aclose()
