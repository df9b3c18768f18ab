"""Group commit for ledger movements: concurrent movements in one process share one call.

A caller's movement joins a queue. Up to `flushers` flusher tasks each take whatever is
waiting (at most `max_items`) and send it as ONE call of `points_batch` on a pooled
connection; the moment that call returns, the flusher takes what queued up meanwhile. There
is no timer: when a flusher is free, a movement goes out on the next turn of the event loop,
alone (as its plain single call). Under load the queue fills while the flushers are busy, so
batches grow with the load and the per-call costs (round trip, commit, client CPU) are shared.

Each caller gets its own answer. If a batch fails (after the runner's retries), its items are
sent again one by one, so one bad item cannot fail the others and every caller gets the
result or the error of its own movement. A batch is one transaction: a failed one wrote
nothing, and one that committed before its connection was lost comes back from the retry as
replays, thanks to the idempotency keys.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from src.database.ledger_batch import LedgerItem, LedgerParams, call_batch, call_one
from src.database.ledger_calls import LedgerResult

log = structlog.get_logger(__name__)

T = TypeVar("T")


class Runner(Protocol):
    """Runs one call on a pooled connection with the service's retries (PointsService._run)."""

    def __call__(self, call: Callable[[AsyncConnection], Awaitable[T]], /) -> Awaitable[T]: ...


class BatcherClosedError(RuntimeError):
    """The process is shutting down and this movement's answer never came back.

    It may or may not have been applied; sending it again with the same key is safe."""


@dataclass(frozen=True, slots=True)
class BatchConfig:
    max_items: int = 64  # per call; at least the callers one process has waiting at once
    flushers: int = 2  # calls in flight at once, each on its own pooled connection

    def __post_init__(self) -> None:
        if self.max_items < 1 or self.flushers < 1:
            raise ValueError("max_items and flushers must be at least 1")


@dataclass(slots=True)
class BatchStats:
    calls: int = 0  # calls sent, a batch of one included
    items: int = 0
    largest: int = 0
    fallbacks: int = 0  # batches that failed and were sent again item by item


@dataclass(slots=True)
class _Waiting:
    item: LedgerItem
    future: asyncio.Future[LedgerResult]


@dataclass(slots=True)
class _Hand:
    """The batch a flusher holds: taken, not yet answered."""

    batch: list[_Waiting] = field(default_factory=list)

    def take(self, batcher: EarnBatcher) -> bool:
        self.batch = batcher._take()
        return bool(self.batch)


class EarnBatcher:
    def __init__(self, *, run: Runner, params: LedgerParams, config: BatchConfig) -> None:
        self._run = run
        self._params = params
        self._config = config
        self._queue: deque[_Waiting] = deque()
        self._active = 0  # running flushers; the task set below is for shutdown only
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self.stats = BatchStats()

    @property
    def config(self) -> BatchConfig:
        return self._config

    @property
    def waiting(self) -> int:
        """Movements queued and not yet taken by a flusher."""
        return len(self._queue)

    async def submit(self, item: LedgerItem) -> LedgerResult:
        if self._closing:  # shutting down: no new flusher, the movement goes on its own
            return await self._one(item)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._adopt(loop)
        future: asyncio.Future[LedgerResult] = loop.create_future()
        self._queue.append(_Waiting(item, future))
        if self._active < self._config.flushers:
            self._active += 1
            task = loop.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def aclose(self, timeout: float = 30.0) -> None:
        """Stop batching: what is queued or in flight is still sent and answered; anything
        left after `timeout` gets BatcherClosedError. Later movements go one by one."""
        self._closing = True
        tasks = set(self._tasks)
        if tasks and self._loop is asyncio.get_running_loop():
            _, late = await asyncio.wait(tasks, timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        self._abandon(list(self._queue))
        self._queue.clear()

    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        # First use, or the previous event loop is gone (and its waiters with it).
        self._loop = loop
        self._queue.clear()
        self._active = 0
        self._tasks = set()

    def _take(self) -> list[_Waiting]:
        batch: list[_Waiting] = []
        while self._queue and len(batch) < self._config.max_items:
            waiting = self._queue.popleft()
            if not waiting.future.done():  # a caller that gave up is not sent at all
                batch.append(waiting)
        if batch:
            stats = self.stats
            stats.calls += 1
            stats.items += len(batch)
            stats.largest = max(stats.largest, len(batch))
        return batch

    async def _flush(self) -> None:
        hand = _Hand()
        try:
            # Take on the first turn, before waiting for a connection: no movement waits
            # for a pool checkout while a flusher could already hold it.
            while hand.take(self):
                try:
                    await self._run(lambda conn: self._drain(conn, hand))
                except Exception as exc:  # the batch in hand failed, retries included
                    batch, hand.batch = hand.batch, []
                    await self._fall_back(batch, exc)
        except BaseException:
            self._abandon(hand.batch)
            raise
        finally:
            # Same step as the empty-queue check in hand.take: a movement queued after it
            # finds fewer active flushers and starts one.
            self._active -= 1
            if self._active == 0 and self._queue:  # cancelled with callers still waiting
                self._abandon(list(self._queue))
                self._queue.clear()

    async def _drain(self, conn: AsyncConnection, hand: _Hand) -> None:
        """Send the batch in hand, then whatever queued meanwhile, on one connection (a pool
        checkout costs more client time than a batch's own call) until the queue is empty.
        A retry after a lost connection resumes with the batch still in hand."""
        while hand.batch:
            items = [w.item for w in hand.batch]
            if len(items) == 1:
                results = [await call_one(conn, items[0], self._params)]
            else:
                results = await call_batch(conn, items, self._params)
            for waiting, result in zip(hand.batch, results, strict=True):
                _settle(waiting, result=result)
            hand.batch = []
            # One turn of the loop (no timer): the callers just answered often send their
            # next movement at once, and it goes out on this connection.
            await asyncio.sleep(0)
            hand.take(self)

    async def _fall_back(self, batch: list[_Waiting], error: Exception) -> None:
        if len(batch) == 1:
            _settle(batch[0], error=error)
            return
        self.stats.fallbacks += 1
        log.warning(
            "points batch failed; sending its items one by one",
            items=len(batch),
            error=repr(error),
        )
        await self._one_by_one(batch)

    async def _one_by_one(self, batch: list[_Waiting]) -> None:
        for waiting in batch:
            if waiting.future.done():
                continue
            try:
                result = await self._one(waiting.item)
            except Exception as exc:
                _settle(waiting, error=exc)
            else:
                _settle(waiting, result=result)

    async def _one(self, item: LedgerItem) -> LedgerResult:
        return await self._run(lambda conn: call_one(conn, item, self._params))

    @staticmethod
    def _abandon(batch: list[_Waiting]) -> None:
        for waiting in batch:
            _settle(waiting, error=BatcherClosedError("points call interrupted by shutdown"))


def _settle(
    waiting: _Waiting, *, result: LedgerResult | None = None, error: BaseException | None = None
) -> None:
    if waiting.future.done():  # the caller was cancelled meanwhile
        return
    if error is not None:
        waiting.future.set_exception(error)
    else:
        assert result is not None
        waiting.future.set_result(result)
