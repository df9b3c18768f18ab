"""Load generator for the earn path: N asyncio clients spread over worker processes.

Closed loop (the default): each client loops: pick a user, call PointsService.award_request
with a fresh key (or, with probability `replay_ratio`, a key this process already used), time
the call. Open loop (`rate`): calls start at a fixed rate whatever the latency, each in its own
task, to show what one call costs when the machine is nearly idle. The processes warm up
(connections opened, statements prepared), meet at a barrier, then run for `duration` seconds;
only calls that finish inside that window count.

CPU accounting: the PostgreSQL backends' CPU is read from /proc at the start line and again
when every worker has finished its window but before any closes its connections (a backend
that exits takes its CPU time with it); the workers close only after that second sample.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import multiprocessing as mp
import queue
import random
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import structlog

from bench.bench_db import ACTION  # base 10 points, one paid earn per 5 s per user
from bench.cpu import Cpu, backend_cpu, busy_cores, machine_jiffies, server_seconds
from config.points_config import DEFAULT_RULES
from config.settings import LogFormat
from src.database.engine import create_engine, create_session_factory
from src.logging_config import configure_logging
from src.services.earn_batcher import BatchConfig
from src.services.points_service import PointsService
from src.services.rank_redis import RedisRanks
from src.services.rank_service import RankService


@dataclass(frozen=True)
class LoadPlan:
    name: str  # part of every key, so phases never collide
    url: str
    database: str  # to find the backends serving the load, for CPU accounting
    clients: int
    processes: int
    duration: float
    warmup: float
    users: int  # users 1..users are picked uniformly ...
    hot_user: int | None = None  # ... unless every call goes to this one
    replay_ratio: float = 0.0
    seed: int = 1
    log_file: Path | None = None  # None: the service's log lines are dropped
    batching: bool = True  # group commit (the service's default); False: one call per earn
    batch_size: int = 64
    flushers: int = 2
    rate: float | None = None  # open loop: calls started per second over all processes
    # The rank index kept in step as in the bot: each process runs the keeper (markers), and
    # with a Redis URL every movement also updates the sorted set after commit.
    rank_index: bool = False
    rank_redis_url: str | None = None
    rank_redis_prefix: str = "syntra-bench:"
    pgbouncer: bool = False  # `url` is a PgBouncer in transaction mode (statement cache off)


@dataclass
class WorkerReport:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    replays: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0
    failure: str | None = None
    batch_calls: int = 0
    batch_items: int = 0
    largest_batch: int = 0
    rank_index_failures: int = 0


@dataclass(frozen=True)
class LoadResult:
    calls: int
    duration: float
    calls_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    outcomes: dict[str, int]
    replays: int
    errors: dict[str, int]
    processes: int
    cpu: Cpu
    batching: bool = True
    batch_calls: int = 0  # database calls the batchers sent for the measured calls
    batch_items: int = 0
    largest_batch: int = 0
    rate: float | None = None
    rank_index: str | None = None  # None, "markers" or "markers + Redis"
    redis_cores: float | None = None  # the Redis server, during the window

    @property
    def mean_batch(self) -> float | None:
        return self.batch_items / self.batch_calls if self.batch_calls else None


def _percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return math.nan
    return ordered[max(math.ceil(pct / 100 * len(ordered)) - 1, 0)]


def _configure_logs(log_file: Path | None) -> None:
    if log_file is None:
        structlog.configure(
            wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
            cache_logger_on_first_use=True,
        )
        return
    # What production does (JSON lines to a file), without echoing every movement to stderr.
    configure_logging(level="INFO", fmt=LogFormat.JSON, log_file=log_file)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler) is logging.StreamHandler:
            root.removeHandler(handler)


@dataclass
class _Caller:
    """What one worker process's calls share: the service, the keys used so far, the report."""

    service: PointsService
    plan: LoadPlan
    rng: random.Random
    prefix: str
    keys: itertools.count[int] = field(default_factory=itertools.count)
    used: list[tuple[int, str]] = field(default_factory=list)

    async def call(self, until: float, report: WorkerReport | None) -> None:
        plan, rng = self.plan, self.rng
        replay = bool(self.used) and rng.random() < plan.replay_ratio
        if replay:
            user_id, key = self.used[rng.randrange(len(self.used))]
        else:
            user_id = plan.hot_user or rng.randint(1, plan.users)
            key = f"{self.prefix}{next(self.keys)}"
        started = time.perf_counter()
        try:
            outcome = await self.service.award_request(user_id=user_id, action=ACTION, key=key)
        except Exception as exc:
            if report is not None:
                report.errors[type(exc).__name__] += 1
            return
        finished = time.perf_counter()
        if not replay:
            self.used.append((user_id, key))
        if report is not None and finished <= until:
            report.latencies.append(finished - started)
            report.outcomes["duplicate" if outcome.duplicate else outcome.outcome.value] += 1
            report.replays += replay

    async def closed_loop(self, clients: int, until: float, report: WorkerReport | None) -> None:
        async def client() -> None:
            while time.perf_counter() < until:
                await self.call(until, report)

        await asyncio.gather(*(client() for _ in range(clients)))

    async def open_loop(self, rate: float, until: float, report: WorkerReport) -> None:
        """One call every 1/rate s, each in its own task, however long the others take."""
        pending: set[asyncio.Task[None]] = set()
        next_at = time.perf_counter()
        while next_at < until:
            wait = next_at - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            task = asyncio.create_task(self.call(until, report))
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += 1 / rate
        await asyncio.gather(*pending)


async def _work(plan: LoadPlan, index: int, clients: int, sync: _Sync) -> WorkerReport:
    _configure_logs(plan.log_file)
    engine = create_engine(plan.url, pool_size=clients, pgbouncer=plan.pgbouncer)
    batching = BatchConfig(plan.batch_size, plan.flushers) if plan.batching else None
    ranks = None
    if plan.rank_index:
        redis = None
        if plan.rank_redis_url:
            redis = RedisRanks.from_url(plan.rank_redis_url, prefix=plan.rank_redis_prefix)
        ranks = RankService(engine=engine, redis=redis)
        ranks.start(rebuild_redis=False)  # built by the benchmark before the run
    service = PointsService(
        engine=engine,
        session_factory=create_session_factory(engine),
        rules=DEFAULT_RULES,
        timezone="UTC",
        batching=batching,
        ranks=ranks,
    )
    caller = _Caller(
        service, plan, random.Random(plan.seed * 1_000 + index), f"{plan.name}-{plan.seed}-{index}-"
    )
    report = WorkerReport()
    try:
        # Warm-up: every pooled connection opened and its statements prepared.
        await caller.closed_loop(clients, time.perf_counter() + plan.warmup, None)
        before = service.batcher.stats if service.batcher else None
        calls0, items0 = (before.calls, before.items) if before else (0, 0)
        await asyncio.to_thread(sync.ready.wait)
        cpu = time.process_time()
        until = time.perf_counter() + plan.duration
        if plan.rate:
            await caller.open_loop(plan.rate / plan.processes, until, report)
        else:
            await caller.closed_loop(clients, until, report)
        report.cpu_seconds = time.process_time() - cpu
        if service.batcher is not None:
            stats = service.batcher.stats
            report.batch_calls, report.batch_items = stats.calls - calls0, stats.items - items0
            report.largest_batch = stats.largest
        # The main process reads the backends' CPU now, while their connections are open.
        await asyncio.to_thread(sync.done.wait)
        await asyncio.to_thread(sync.sampled.wait)
        await service.aclose()
    finally:
        if ranks is not None:
            report.rank_index_failures = ranks.redis.failures if ranks.redis else 0
            await ranks.aclose()
        await engine.dispose()
    return report


@dataclass(frozen=True)
class _Sync:
    ready: Barrier  # warmed up: the measured window starts
    done: Barrier  # every worker finished its window (connections still open)
    sampled: Barrier  # the main process took its closing CPU sample: connections may close

    def abort(self) -> None:
        for barrier in (self.ready, self.done, self.sampled):
            barrier.abort()


def _worker(
    plan: LoadPlan, index: int, clients: int, sync: _Sync, out: Queue[WorkerReport]
) -> None:
    try:
        report = asyncio.run(_work(plan, index, clients, sync))
    except BaseException:
        sync.abort()
        report = WorkerReport(failure=traceback.format_exc())
    out.put(report)


def _collect(
    out: Queue[WorkerReport], procs: Sequence[BaseProcess], *, timeout: float
) -> list[WorkerReport]:
    """Every worker's report; a worker that died without one (killed, crashed) is an error."""
    reports: list[WorkerReport] = []
    deadline = time.monotonic() + timeout
    while len(reports) < len(procs):
        try:
            reports.append(out.get(timeout=1.0))
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                for proc in procs:
                    proc.kill()
                raise RuntimeError(f"load workers failed (exit codes {dead})") from None
    for proc in procs:
        proc.join(timeout=30)
    return reports


def run_load(plan: LoadPlan) -> LoadResult:
    """Run the plan in `plan.processes` spawned processes and merge what they measured."""
    ctx = mp.get_context("spawn")
    sync = _Sync(*(ctx.Barrier(plan.processes + 1) for _ in range(3)))
    out: Queue[WorkerReport] = ctx.Queue()
    shares = [
        plan.clients // plan.processes + (i < plan.clients % plan.processes)
        for i in range(plan.processes)
    ]
    procs = [
        ctx.Process(target=_worker, args=(plan, i, n, sync, out), daemon=True)
        for i, n in enumerate(shares)
    ]
    for proc in procs:
        proc.start()
    before = after = redis_before = redis_after = None
    server: dict[int, float] = {}
    server_after: dict[int, float] = {}
    window = plan.duration
    try:
        sync.ready.wait(timeout=plan.warmup + 120)
        before, server = machine_jiffies(), backend_cpu(plan.database)
        redis_before = _redis_cpu(plan.rank_redis_url)
        started = time.perf_counter()
        sync.done.wait(timeout=plan.duration + 120)
        after, server_after = machine_jiffies(), backend_cpu(plan.database)
        redis_after = _redis_cpu(plan.rank_redis_url)
        window = time.perf_counter() - started
        sync.sampled.wait(timeout=60)
    except threading.BrokenBarrierError:
        pass  # a worker failed; its report says why
    reports = _collect(out, procs, timeout=plan.warmup + plan.duration + 180)
    failures = [r.failure for r in reports if r.failure]
    if failures:
        raise RuntimeError("a load worker failed:\n" + failures[0])

    server_s = server_seconds(server, server_after)
    if server.keys() - server_after.keys():
        print(
            f"earn_load: {len(server.keys() - server_after.keys())} backends exited inside the "
            "measured window: server CPU reads low",
            file=sys.stderr,
        )
    latencies = sorted(x for r in reports for x in r.latencies)
    outcomes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for r in reports:
        outcomes.update(r.outcomes)
        errors.update(r.errors)
    return LoadResult(
        calls=len(latencies),
        duration=plan.duration,
        calls_per_s=len(latencies) / plan.duration,
        p50_ms=_percentile(latencies, 50) * 1000,
        p90_ms=_percentile(latencies, 90) * 1000,
        p99_ms=_percentile(latencies, 99) * 1000,
        max_ms=(latencies[-1] * 1000) if latencies else math.nan,
        outcomes=dict(outcomes),
        replays=sum(r.replays for r in reports),
        errors=dict(errors),
        processes=plan.processes,
        cpu=Cpu(
            client_cores=sum(r.cpu_seconds for r in reports) / plan.duration,
            server_cores=None if server_s is None else server_s / window,
            machine_cores=busy_cores(before, after),
        ),
        batching=plan.batching,
        batch_calls=sum(r.batch_calls for r in reports),
        batch_items=sum(r.batch_items for r in reports),
        largest_batch=max(r.largest_batch for r in reports),
        rate=plan.rate,
        rank_index=(
            ("markers + Redis" if plan.rank_redis_url else "markers") if plan.rank_index else None
        ),
        redis_cores=(
            None
            if redis_before is None or redis_after is None
            else (redis_after - redis_before) / window
        ),
    )


def _redis_cpu(url: str | None) -> float | None:
    """CPU seconds the Redis server has used (all its clients: run on a quiet server)."""
    if not url:
        return None
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    finally:
        client.close()
