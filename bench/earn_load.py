"""Load generator for the earn path: N asyncio clients spread over worker processes.

Each client loops: pick a user, call PointsService.award_request with a fresh key (or, with
probability `replay_ratio`, a key this process already used), time the call. The processes
warm up (connections opened, statements prepared), meet at a barrier, then run for `duration`
seconds; only calls that finish inside that window count.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import multiprocessing as mp
import queue
import random
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
from src.services.points_service import PointsService


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


@dataclass
class WorkerReport:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    replays: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0
    failure: str | None = None


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


async def _client(
    service: PointsService,
    plan: LoadPlan,
    rng: random.Random,
    keys: itertools.count[int],
    prefix: str,
    used: list[tuple[int, str]],
    until: float,
    report: WorkerReport | None,
) -> None:
    while time.perf_counter() < until:
        replay = bool(used) and rng.random() < plan.replay_ratio
        if replay:
            user_id, key = used[rng.randrange(len(used))]
        else:
            user_id = plan.hot_user or rng.randint(1, plan.users)
            key = f"{prefix}{next(keys)}"
        started = time.perf_counter()
        try:
            outcome = await service.award_request(user_id=user_id, action=ACTION, key=key)
        except Exception as exc:
            if report is not None:
                report.errors[type(exc).__name__] += 1
            continue
        finished = time.perf_counter()
        if not replay:
            used.append((user_id, key))
        if report is not None and finished <= until:
            report.latencies.append(finished - started)
            report.outcomes["duplicate" if outcome.duplicate else outcome.outcome.value] += 1
            report.replays += replay


async def _work(plan: LoadPlan, index: int, clients: int, ready: Barrier) -> WorkerReport:
    _configure_logs(plan.log_file)
    engine = create_engine(plan.url, pool_size=clients)
    service = PointsService(
        engine=engine,
        session_factory=create_session_factory(engine),
        rules=DEFAULT_RULES,
        timezone="UTC",
    )
    rng = random.Random(plan.seed * 1_000 + index)
    keys = itertools.count()
    prefix = f"{plan.name}-{plan.seed}-{index}-"
    used: list[tuple[int, str]] = []
    report = WorkerReport()
    try:
        # Warm-up: every pooled connection opened and its statements prepared.
        until = time.perf_counter() + plan.warmup
        await asyncio.gather(
            *(_client(service, plan, rng, keys, prefix, used, until, None) for _ in range(clients))
        )
        await asyncio.to_thread(ready.wait)
        cpu = time.process_time()
        until = time.perf_counter() + plan.duration
        await asyncio.gather(
            *(
                _client(service, plan, rng, keys, prefix, used, until, report)
                for _ in range(clients)
            )
        )
        report.cpu_seconds = time.process_time() - cpu
    finally:
        await engine.dispose()
    return report


def _worker(
    plan: LoadPlan, index: int, clients: int, ready: Barrier, out: Queue[WorkerReport]
) -> None:
    try:
        report = asyncio.run(_work(plan, index, clients, ready))
    except BaseException:
        ready.abort()
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
    ready = ctx.Barrier(plan.processes + 1)
    out: Queue[WorkerReport] = ctx.Queue()
    shares = [
        plan.clients // plan.processes + (i < plan.clients % plan.processes)
        for i in range(plan.processes)
    ]
    procs = [
        ctx.Process(target=_worker, args=(plan, i, n, ready, out), daemon=True)
        for i, n in enumerate(shares)
    ]
    for proc in procs:
        proc.start()
    before = after = None
    server: dict[int, float] = {}
    server_after: dict[int, float] = {}
    try:
        ready.wait(timeout=plan.warmup + 120)
        before, server = machine_jiffies(), backend_cpu(plan.database)
        time.sleep(plan.duration)
        after, server_after = machine_jiffies(), backend_cpu(plan.database)
    except threading.BrokenBarrierError:
        pass  # a worker failed before the start; its report says why
    reports = _collect(out, procs, timeout=plan.warmup + plan.duration + 180)
    failures = [r.failure for r in reports if r.failure]
    if failures:
        raise RuntimeError("a load worker failed:\n" + failures[0])

    server_s = server_seconds(server, server_after)
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
            server_cores=None if server_s is None else server_s / plan.duration,
            machine_cores=busy_cores(before, after),
        ),
    )
