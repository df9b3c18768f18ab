"""Background jobs that run once at a time across every worker process.

Expiry reminders, the TON payment poller and similar chores must not run twice at the same
moment when several bot workers share one PostgreSQL. Each run of a job first takes a
transaction-level advisory lock named after the job, in a transaction of its own held open
(idle, no snapshot kept) while the job runs; a worker that cannot take it skips that tick
(another worker is running the job). If the worker holding the lock dies, PostgreSQL drops the
connection and the lock with it, so the next tick elsewhere proceeds. A transaction lock, not
a session lock: behind PgBouncer in transaction mode a session lock would stay on whichever
server connection took it and its unlock could reach another (docs/SCALING.md). A job must still be idempotent on its own data (a crash mid-run is finished by the
next run): the lock prevents overlap, not replays.

Services describe their jobs as `PeriodicJob`s; `bootstrap.build_context` adds them to the
context's `JobRunner`; the bot process starts it; tests call `run_once(name)` directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from src.services.failures import FailureCounter

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str  # also names the advisory lock: one run at a time across all workers
    interval_seconds: float
    run: Callable[[], Awaitable[None]]


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a job name (the same in every process)."""
    digest = hashlib.blake2b(f"syntra-job:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class JobRunner:
    def __init__(self, engine: AsyncEngine, failures: FailureCounter) -> None:
        self._engine = engine
        self._failures = failures
        self._jobs: dict[str, PeriodicJob] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, job: PeriodicJob) -> None:
        if job.name in self._jobs:
            raise ValueError(f"job {job.name!r} is already registered")
        self._jobs[job.name] = job

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._jobs)

    async def run_once(self, name: str) -> bool:
        """Run job `name` if no other process is running it; True when it ran here.

        A failure inside the job is logged and counted (the loop must survive it); it still
        counts as a run.
        """
        job = self._jobs[name]
        key = lock_key(name)
        async with self._engine.begin() as conn:  # the lock lasts until this commits
            taken = (
                await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key})
            ).scalar()
            if not taken:
                log.debug("job skipped: running elsewhere", job=name)
                return False
            try:
                await job.run()
            except Exception:
                self._failures.inc(f"job:{name}")
                log.exception("background job failed", job=name)
        return True

    def start(self) -> None:
        """One task per job, each ticking at its interval (the first tick right away)."""
        for name in self._jobs:
            self._tasks.append(asyncio.create_task(self._loop(name), name=f"job:{name}"))

    async def _loop(self, name: str) -> None:
        interval = self._jobs[name].interval_seconds
        while True:
            try:
                await self.run_once(name)
            except Exception:  # the database itself is unreachable: try again next tick
                self._failures.inc(f"job:{name}")
                log.warning("background job could not start", job=name, exc_info=True)
            await asyncio.sleep(interval)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
