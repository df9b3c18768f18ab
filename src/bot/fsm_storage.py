"""aiogram FSM state in Redis, shared by every bot worker, that a Redis outage cannot stop.

aiogram reads the state of every update before any handler runs. With plain RedisStorage a
Redis outage would fail every update, even the ones that use no state (nearly all of them):
here a failed read answers "no state" (logged and counted) and the update goes on; a write
still fails loudly, so a multi-step flow never silently forgets where it was.
"""

from __future__ import annotations

from typing import Any

import structlog
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from redis.exceptions import RedisError

from src.services.failures import FailureCounter

log = structlog.get_logger(__name__)


class SharedStateStorage(RedisStorage):
    def __init__(self, redis: Redis, *, prefix: str, failures: FailureCounter) -> None:
        super().__init__(redis, key_builder=DefaultKeyBuilder(prefix=f"{prefix}fsm"))
        self._failures = failures

    @classmethod
    def connect(cls, url: str, *, prefix: str, failures: FailureCounter) -> SharedStateStorage:
        client = Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        return cls(client, prefix=prefix, failures=failures)

    async def get_state(self, key: StorageKey) -> str | None:
        try:
            return await super().get_state(key)
        except RedisError:
            self._unreadable(key)
            return None

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        try:
            return await super().get_data(key)
        except RedisError:
            self._unreadable(key)
            return {}

    def _unreadable(self, key: StorageKey) -> None:
        total = self._failures.inc("fsm_storage")
        log.warning("FSM state unreadable: Redis", user_id=key.user_id, failures_total=total)
