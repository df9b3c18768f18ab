"""One OS process of the ledger load test: many asyncio tasks sharing one PointsService.

tests/integration/test_points_concurrency.py starts several of these with multiprocessing's
"spawn" context (`run_worker` is the process target). Each builds its own engine from the
database URL, waits on a barrier so all processes start together, then runs a random mix of
request earns, daily claims, admin grants, admin deducts and spends against a shared set of
users, on the database clock (clock=None). Every outcome is checked on the spot against what
the caller asked for; the process sends back a `WorkerReport` with its counts, the points it
saw move per user, every key it saw (and whether its call wrote the row or got a replay), the
rule violations it noticed and any unexpected exception.

Some keys are drawn from a small space shared by all processes ("race" keys, with a type and
amount derived from the key alone), so the same key is submitted concurrently from different
processes: exactly one call may write it, every other call must get a replay.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
import traceback
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

import structlog
from sqlalchemy import text

from config.points_config import (
    DEFAULT_RULES_DATA,
    PointsRules,
    RequestAction,
    Tier,
    TransactionType,
)
from src.database.engine import create_engine, create_session_factory
from src.services.points_service import PointsService
from src.services.points_types import (
    IdempotencyConflictError,
    Outcome,
    PointsOutcome,
)

ACTIONS: tuple[RequestAction, ...] = tuple(RequestAction)
EARN_OUTCOMES = frozenset(
    {Outcome.AWARDED, Outcome.PARTIALLY_CAPPED, Outcome.RATE_LIMITED, Outcome.CAPPED}
)
RACE_SLOTS = 8  # per user and kind: small, so processes collide on the same keys
ADMIN_ID = 42
MAX_RECORDED_ERRORS = 20
HOT_SHARE = 0.3


def load_rules(daily_cap: int, intervals: dict[RequestAction, float]) -> PointsRules:
    """The SPEC defaults with the given daily cap and per-action minimum intervals (validated)."""
    data = copy.deepcopy(DEFAULT_RULES_DATA)
    data["max_daily_points_earning"] = daily_cap
    for action, seconds in intervals.items():
        data["requests"][action.value]["min_interval_seconds"] = seconds
    return PointsRules.model_validate(data)


def full_request_points(rules: PointsRules, action: RequestAction, level: int, tier: Tier) -> int:
    """SPEC 3: base x level multiplier x tier multiplier, exact, rounded half up."""
    exact = (
        Decimal(rules.requests[action].base_points)
        * rules.level(level).earning_multiplier
        * rules.tier_multipliers[tier]
    )
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def race_amount(user_id: int, slot: int, salt: int) -> int:
    """The amount of a shared race key: a function of the key alone, the same in every process."""
    return 1 + (user_id * 7919 + slot * 104_729 + salt * 1_299_709) % 250


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: int
    database_url: str
    users: dict[int, Tier]
    daily_cap: int
    intervals: dict[RequestAction, float]
    hot_users: tuple[int, ...] = ()  # power users: a share of all calls goes to them
    tasks: int = 16
    seconds: float = 7.0
    max_ops_per_task: int = 100_000
    seed: int = 0
    barrier_timeout: float = 60.0


@dataclass
class KeyRecord:
    """What the ledger said about one (user, key), and how often this process saw it."""

    user_id: int
    transaction_type: str
    outcome: str
    amount: int
    balance_after: int
    streak: int | None
    originals: int = 0  # calls that wrote the row (duplicate=False)
    replays: int = 0  # calls answered with the stored outcome (duplicate=True)

    def same_result(self, other: KeyRecord) -> bool:
        return (
            self.user_id,
            self.transaction_type,
            self.outcome,
            self.amount,
            self.balance_after,
            self.streak,
        ) == (
            other.user_id,
            other.transaction_type,
            other.outcome,
            other.amount,
            other.balance_after,
            other.streak,
        )


@dataclass
class WorkerReport:
    worker_id: int
    counts: Counter[str] = field(default_factory=Counter)
    credits_by_user: Counter[int] = field(default_factory=Counter)
    debits_by_user: Counter[int] = field(default_factory=Counter)
    keys: dict[tuple[int, str], KeyRecord] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    log_events: Counter[str] = field(default_factory=Counter)
    started_at: float = 0.0  # wall clock (time.time()) when the load began / ended
    finished_at: float = 0.0
    fatal: str | None = None
    batch_calls: int = 0  # calls the service's batcher sent (0 with batching off)
    batched_items: int = 0
    largest_batch: int = 0
    batch_fallbacks: int = 0


@dataclass(frozen=True)
class _Call:
    """A call that can be replayed: same user, kind, key and amount (or action)."""

    kind: str  # "earn", "grant", "deduct", "spend"
    user_id: int
    key: str
    amount: int = 0
    action: RequestAction | None = None


class _Load:
    def __init__(self, cfg: WorkerConfig, points: PointsService, report: WorkerReport) -> None:
        self.cfg = cfg
        self.points = points
        self.rules = points.rules
        self.report = report
        self.users = sorted(cfg.users)
        self.calls: list[_Call] = []
        self.last_balance: dict[int, int] = {}

    # ------------------------------------------------------------------ bookkeeping

    def violation(self, message: str) -> None:
        self.report.counts["violations"] += 1
        if len(self.report.violations) < MAX_RECORDED_ERRORS:
            self.report.violations.append(f"worker {self.cfg.worker_id}: {message}")

    def observe(self, key: str, out: PointsOutcome) -> None:
        counts = self.report.counts
        counts["calls"] += 1
        counts[f"outcome:{out.transaction_type}:{out.outcome.value}"] += 1
        if out.transaction_id != key:
            self.violation(f"asked for key {key!r}, outcome carries {out.transaction_id!r}")
        if out.balance_after < 0:
            self.violation(f"negative balance_after: {out}")
        if out.level_after < out.level_before:
            self.violation(f"level went down: {out}")
        record = KeyRecord(
            user_id=out.user_id,
            transaction_type=out.transaction_type,
            outcome=out.outcome.value,
            amount=out.amount,
            balance_after=out.balance_after,
            streak=out.streak if out.transaction_type == TransactionType.DAILY_LOGIN else None,
        )
        # Whether a key was written by exactly one call is checked over all processes at the end
        # (two tasks here may race on a key, and the replay's answer may be read first).
        known = self.report.keys.setdefault((out.user_id, key), record)
        if known is not record and not known.same_result(record):
            self.violation(f"key {key!r} answered {record}, an earlier call got {known}")
        if out.duplicate:
            known.replays += 1
            counts["duplicates"] += 1
            counts[f"duplicate:{out.transaction_type}"] += 1
            return
        known.originals += 1
        self.last_balance[out.user_id] = out.balance_after
        if out.amount > 0:
            counts["paid"] += 1
            self.report.credits_by_user[out.user_id] += out.amount
        elif out.amount < 0:
            counts["paid"] += 1
            self.report.debits_by_user[out.user_id] += -out.amount
        else:
            counts["refused"] += 1

    # ------------------------------------------------------------------ operations

    async def earn(self, user_id: int, key: str, action: RequestAction) -> None:
        out = await self.points.award_request(user_id=user_id, action=action, key=key)
        self.observe(key, out)
        if out.transaction_type != action.value or out.outcome not in EARN_OUTCOMES:
            self.violation(f"earn {action.value} answered {out}")
        elif not out.duplicate:
            full = full_request_points(
                self.rules, action, out.level_before, self.cfg.users[user_id]
            )
            expected_ok = {
                Outcome.AWARDED: out.amount == full,
                Outcome.PARTIALLY_CAPPED: 0 < out.amount < full,
                Outcome.RATE_LIMITED: out.amount == 0,
                Outcome.CAPPED: out.amount == 0,
            }[out.outcome]
            if not expected_ok:
                self.violation(f"earn worth {full} answered {out}")
        self.calls.append(_Call("earn", user_id, key, action=action))

    async def daily(self, user_id: int) -> None:
        out = await self.points.claim_daily_login(user_id=user_id)
        self.observe(out.transaction_id, out)
        bonus = self.rules.streak_bonus(out.streak or 0)
        if (
            out.outcome is not Outcome.AWARDED
            or out.streak is None
            or out.amount != self.rules.daily_login_points + bonus
        ):
            self.violation(f"daily claim answered {out}")

    async def move(self, kind: str, user_id: int, key: str, amount: int) -> PointsOutcome:
        if kind == "grant":
            return await self.points.admin_grant(
                user_id=user_id, amount=amount, admin_id=ADMIN_ID, key=key
            )
        if kind == "deduct":
            return await self.points.admin_deduct(
                user_id=user_id, amount=amount, admin_id=ADMIN_ID, key=key
            )
        return await self.points.spend(user_id=user_id, amount=amount, key=key)

    async def movement(self, kind: str, user_id: int, key: str, amount: int) -> None:
        out = await self.move(kind, user_id, key, amount)
        self.observe(key, out)
        if kind == "grant":
            ok = out.outcome is Outcome.AWARDED and out.amount == amount
        elif out.outcome is Outcome.DEBITED:
            ok = out.amount == -amount
        elif out.outcome is Outcome.INSUFFICIENT_FUNDS:
            # Refused, never clipped: only when the balance really was below the amount.
            ok = out.amount == 0 and out.balance_after < amount
        else:
            ok = False
        if not ok:
            self.violation(f"{kind} of {amount} answered {out}")
        self.calls.append(_Call(kind, user_id, key, amount=amount))

    def debit_amount(self, rng: random.Random, user_id: int) -> int:
        roll = rng.random()
        if roll < 0.5:
            return rng.randint(1, 150)
        if roll < 0.8:  # right at the edge of the balance last seen: races decide the outcome
            return max(1, self.last_balance.get(user_id, 100) + rng.randint(-30, 30))
        return rng.randint(10**6, 10**7)  # more than anyone has: refused

    async def replay(self, rng: random.Random) -> None:
        call = rng.choice(self.calls)
        self.report.counts["replay_calls"] += 1
        if call.kind == "earn":
            assert call.action is not None
            out = await self.points.award_request(
                user_id=call.user_id, action=call.action, key=call.key
            )
        else:
            out = await self.move(call.kind, call.user_id, call.key, call.amount)
        if not out.duplicate:
            self.violation(f"replay of {call} was not a duplicate: {out}")
        self.observe(call.key, out)

    async def conflicting_replay(self, rng: random.Random) -> None:
        call = rng.choice(self.calls)
        self.report.counts["conflict_calls"] += 1
        try:
            if call.kind == "earn":
                other = rng.choice([a for a in ACTIONS if a is not call.action])
                await self.points.award_request(user_id=call.user_id, action=other, key=call.key)
            else:
                await self.move(call.kind, call.user_id, call.key, call.amount + rng.randint(1, 9))
        except IdempotencyConflictError:
            self.report.counts["conflicts"] += 1
        else:
            self.violation(f"reusing the key of {call} with another type/amount did not conflict")

    async def one(self, rng: random.Random, task: int, n: int) -> None:
        hot = bool(self.cfg.hot_users) and rng.random() < HOT_SHARE
        user_id = rng.choice(self.cfg.hot_users if hot else self.users)
        roll = rng.random()
        fresh = f"w{self.cfg.worker_id}t{task}n{n}"
        race = rng.random() < 0.25
        slot = rng.randrange(RACE_SLOTS)
        if roll < 0.05 and self.calls:
            await self.replay(rng)
        elif roll < 0.065 and self.calls:
            await self.conflicting_replay(rng)
        elif roll < 0.60:
            if race:  # the action is part of the key, so racing processes agree on it
                action = ACTIONS[slot % len(ACTIONS)]
                await self.earn(user_id, f"race:earn:{user_id}:{slot}", action)
            else:
                action = rng.choice(ACTIONS)
                await self.earn(user_id, f"req:{action.value}:{fresh}", action)
        elif roll < 0.66:
            await self.daily(user_id)
        else:
            kind = "grant" if roll < 0.76 else "deduct" if roll < 0.86 else "spend"
            if race:
                salt = {"grant": 1, "deduct": 2, "spend": 3}[kind]
                key, amount = f"race:{kind}:{user_id}:{slot}", race_amount(user_id, slot, salt)
            else:
                key = f"{kind}:{fresh}"
                amount = rng.randint(1, 300) if kind == "grant" else self.debit_amount(rng, user_id)
            await self.movement(kind, user_id, key, amount)

    async def task(self, index: int, deadline: float) -> None:
        rng = random.Random(f"{self.cfg.seed}:{self.cfg.worker_id}:{index}")
        for n in range(self.cfg.max_ops_per_task):
            if time.monotonic() >= deadline:
                return
            try:
                await self.one(rng, index, n)
            except Exception as exc:
                self.report.error_count += 1
                if len(self.report.errors) < MAX_RECORDED_ERRORS:
                    message = "".join(traceback.format_exception_only(exc)).strip()
                    trace = "".join(traceback.format_exception(exc))[-1500:]
                    self.report.errors.append(f"{message}\n...{trace}")


def _count_log_events(events: Counter[str]) -> None:
    """Count the service's log events instead of printing thousands of lines."""

    def processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> Any:
        events[str(event_dict.get("event"))] += 1
        raise structlog.DropEvent

    structlog.configure(processors=[processor], cache_logger_on_first_use=False)


async def _run(cfg: WorkerConfig, barrier: Barrier, report: WorkerReport) -> None:
    engine = create_engine(cfg.database_url, pool_size=cfg.tasks)  # a connection per task
    try:
        points = PointsService(
            engine=engine,
            session_factory=create_session_factory(engine),
            rules=load_rules(cfg.daily_cap, cfg.intervals),
            clock=None,  # the database clock
        )

        async def ping() -> None:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))

        # Open the pool's connections before the start line, so the load starts at once.
        await asyncio.gather(*(ping() for _ in range(cfg.tasks)))
        await asyncio.to_thread(barrier.wait, cfg.barrier_timeout)
        load = _Load(cfg, points, report)
        report.started_at = time.time()
        deadline = time.monotonic() + cfg.seconds
        await asyncio.gather(*(load.task(i, deadline) for i in range(cfg.tasks)))
        report.finished_at = time.time()
        await points.aclose()
        if points.batcher is not None:
            stats = points.batcher.stats
            report.batch_calls, report.batched_items = stats.calls, stats.items
            report.largest_batch, report.batch_fallbacks = stats.largest, stats.fallbacks
    finally:
        await engine.dispose()


def run_worker(cfg: WorkerConfig, barrier: Barrier, results: Queue[WorkerReport]) -> None:
    """Process target: run the load and put exactly one WorkerReport on `results`."""
    report = WorkerReport(worker_id=cfg.worker_id)
    _count_log_events(report.log_events)
    try:
        asyncio.run(_run(cfg, barrier, report))
    except BaseException:
        report.fatal = traceback.format_exc()[-4000:]
        barrier.abort()  # release the other processes instead of leaving them waiting
    results.put(report)
