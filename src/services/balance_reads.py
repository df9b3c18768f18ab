"""Group read for the hottest read: concurrent balance reads in one process share one SELECT.

Every `/points`, every Mini App call and every API balance request reads one row of
`points_balances`. Alone, each read pays a pool checkout, a round trip and a wake-up of a
PostgreSQL backend; at a few thousand reads a second that is most of their cost. Here a read
joins a queue; one reader task takes everything waiting and sends ONE
`WHERE user_id = ANY($1)`, answers each caller, and takes what queued up meanwhile, on the
same connection, until the queue is empty. There is no timer: when the reader is idle, a
read goes out on the next turn of the event loop, alone; under load the reads pile up while
one is in flight and go out together. It is the earn path's group commit
(src/services/earn_batcher.py), for reads.

Fresh: a read that joins the queue is sent in a SELECT that starts after it joined, so it
sees every movement committed before the request arrived (a read never rides on a SELECT
already in flight).

A failed SELECT fails the reads it carried, each with the same error, and nothing else: the
next read starts over (with a new connection if this one was lost).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from src.database import points_queries
from src.database.ledger_errors import CONNECTION_LOST
from src.database.points_queries import BalanceRow

MAX_IDS = 512  # per SELECT: far above what one process has waiting at once


@dataclass(slots=True)
class ReadStats:
    selects: int = 0
    reads: int = 0
    largest: int = 0


Waiters = dict[int, list[asyncio.Future[BalanceRow | None]]]  # user id -> its callers


class BalanceReads:
    def __init__(self, engine: AsyncEngine) -> None:
        # AUTOCOMMIT: the SELECT is its own transaction, one round trip, no BEGIN/COMMIT.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._waiting: Waiters = {}
        self._in_hand: Waiters = {}  # taken by the reader, not yet answered
        self._reader: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stats = ReadStats()

    async def row(self, user_id: int) -> BalanceRow | None:
        """The user's balance row as committed when the call was made; None: no such user."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # first use, or the last loop is gone with its waiters
            self._loop, self._waiting, self._in_hand, self._reader = loop, {}, {}, None
        future: asyncio.Future[BalanceRow | None] = loop.create_future()
        self._waiting.setdefault(user_id, []).append(future)
        if self._reader is None:
            self._reader = loop.create_task(self._read())
        return await future

    async def _read(self) -> None:
        try:
            # No await between the last empty take and the end of the task: a read queued
            # after it finds no reader and starts one.
            while self._take():
                try:
                    async with self._engine.connect() as conn:
                        await self._drain(conn)
                except Exception as exc:
                    # Only the reads of the failed SELECT fail; those queued meanwhile get
                    # the next round (a new connection if this one was lost).
                    for futures in self._in_hand.values():
                        _answer(futures, error=exc)
        except BaseException:  # cancelled: nobody would answer the callers
            for waiters in (self._in_hand, self._waiting):
                for futures in waiters.values():
                    for future in futures:
                        future.cancel()
                waiters.clear()
            raise
        finally:
            self._reader = None

    def _take(self) -> bool:
        taken: Waiters = {}
        while self._waiting and len(taken) < MAX_IDS:
            user_id = next(iter(self._waiting))
            futures = [f for f in self._waiting.pop(user_id) if not f.done()]
            if futures:  # a caller that gave up is not read at all
                taken[user_id] = futures
        self._in_hand = taken
        return bool(taken)

    async def _drain(self, conn: AsyncConnection) -> None:
        """SELECT what is in hand, answer it, take what queued meanwhile; until none waits."""
        while self._in_hand:
            try:
                rows = await points_queries.balance_rows(conn, list(self._in_hand))
            except CONNECTION_LOST as exc:
                await conn.invalidate(exc)  # bypassed SQLAlchemy: tell the pool ourselves
                raise
            self._count(self._in_hand)
            for user_id, futures in self._in_hand.items():
                _answer(futures, result=rows.get(user_id))
            # One turn of the loop: callers just answered may read again at once, and
            # their reads go out on this connection.
            await asyncio.sleep(0)
            self._take()

    def _count(self, batch: Waiters) -> None:
        stats = self.stats
        stats.selects += 1
        stats.reads += sum(len(futures) for futures in batch.values())
        stats.largest = max(stats.largest, len(batch))


def _answer(
    futures: list[asyncio.Future[BalanceRow | None]],
    *,
    result: BalanceRow | None = None,
    error: Exception | None = None,
) -> None:
    for future in futures:
        if future.done():  # the caller gave up meanwhile
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
