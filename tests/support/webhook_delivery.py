"""Telegram's side of webhook delivery, for tests with several bot workers.

Telegram posts each update until it gets a 2xx: on a refused connection, a reset or a 5xx it
tries again later. Here each update goes first to worker `i % n` (round-robin, or whatever
`first` says), and a failed attempt moves on to the next worker, as a proxy in front of
several workers does; `Retry-After` is honoured, capped so a test never waits long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from src.bot.webhook import SECRET_HEADER


@dataclass
class Delivery:
    update: dict[str, Any]
    attempts: list[tuple[int, str]] = field(default_factory=list)  # (worker, status or error)
    acked_by: int | None = None

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


class WebhookDeliverer:
    def __init__(
        self,
        urls: Sequence[str],
        secret: str,
        *,
        concurrency: int = 12,
        give_up_after: float = 150.0,
        max_retry_wait: float = 1.0,
    ) -> None:
        self.urls = list(urls)
        self.secret = secret
        self.give_up_after = give_up_after
        self.max_retry_wait = max_retry_wait
        self.acked = 0
        self._slots = asyncio.Semaphore(concurrency)
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WebhookDeliverer:
        # A new connection per post: a killed worker costs only the posts it had in hand.
        connector = aiohttp.TCPConnector(force_close=True, limit=0)
        self._http = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def deliver(self, delivery: Delivery, first: int) -> Delivery:
        """Post until some worker answers 200 (fails the test after `give_up_after`)."""
        assert self._http is not None
        target, deadline = first % len(self.urls), time.monotonic() + self.give_up_after
        async with self._slots:
            while True:
                wait = await self._attempt(delivery, target)
                if delivery.acked_by is not None:
                    self.acked += 1
                    return delivery
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"update {delivery.update_id} never acknowledged: {delivery.attempts}"
                    )
                await asyncio.sleep(wait)
                target = (target + 1) % len(self.urls)

    async def _attempt(self, delivery: Delivery, target: int) -> float:
        """One POST; how long to wait before the next one (0 when acknowledged)."""
        assert self._http is not None
        headers = {SECRET_HEADER: self.secret}
        timeout = aiohttp.ClientTimeout(total=120)
        try:
            async with self._http.post(
                self.urls[target], json=delivery.update, headers=headers, timeout=timeout
            ) as resp:
                delivery.attempts.append((target, str(resp.status)))
                if resp.status == 200:
                    delivery.acked_by = target
                    return 0.0
                retry_after = float(resp.headers.get("Retry-After", "1"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery.attempts.append((target, type(exc).__name__))
            retry_after = 0.2
        return min(retry_after, self.max_retry_wait)
