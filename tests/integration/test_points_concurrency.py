"""SPEC 2 and 6 under real concurrency: several OS processes x many asyncio tasks.

Three processes (multiprocessing, "spawn") each run 16 asyncio tasks for a few seconds against
the same 20 users (every tier, levels 1-6; the level-6 users get 30 % of the traffic) with a
random mix of request earns on the database clock, daily claims, admin grants, admin deducts
and spends (some larger than the balance), replays of used keys, and replays of a used key with
another amount or type. Some keys are shared by all processes, so the same key is submitted
concurrently from different processes.

Afterwards the whole ledger is audited (every SPEC 2 invariant, the daily cap, the intervals),
and what the processes were told is reconciled with the database: every ledger row was written
by exactly one call and every other call with its key got a replay of it, the points the callers
saw move add up to each user's balance and lifetime totals, and every refusal the ledger
recorded was justified when it was made.

The daily cap is 2000 and the minimum intervals are 1/50 of the defaults (text 0.1 s, vision and
chart 0.2 s): with the default 5-10 s intervals a user can be paid at most four times in 7 s
(at most 220 points even as a VIP at level 6), so neither the cap nor the interval check after
a paid earn would see real traffic.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import queue
import time
from collections import Counter
from datetime import timedelta
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import PointsRules, RequestAction, Tier, TransactionType
from src.services.ledger_audit import audit_ledger
from src.services.points_service import PointsService
from tests.support.factories import create_user
from tests.support.load_worker import (
    KeyRecord,
    WorkerConfig,
    WorkerReport,
    load_rules,
    run_worker,
)

PROCESSES = 3
TASKS_PER_PROCESS = 16
USERS = 20
SECONDS = 6.0
DAILY_CAP = 2000
INTERVALS = {RequestAction.TEXT: 0.1, RequestAction.VISION: 0.2, RequestAction.CHART: 0.2}
TIERS = (Tier.FREE, Tier.BASIC, Tier.PREMIUM, Tier.VIP)
COLLECT_TIMEOUT = 90.0
TIMEZONE = "UTC"

# Refusals the ledger recorded must have been justified at the moment they were made (the
# audit checks the other direction: nothing was paid that should not have been).
UNJUSTIFIED_RATE_LIMITS = """
    SELECT r.user_id, r.id, r.transaction_type, r.created_at
    FROM points_transactions r
    WHERE r.metadata_json ->> 'outcome' = 'rate_limited'
      AND NOT EXISTS (
        SELECT 1 FROM points_transactions p
        WHERE p.user_id = r.user_id AND p.transaction_type = r.transaction_type
          AND p.amount > 0 AND p.id < r.id
          AND p.created_at > r.created_at - CASE r.transaction_type
                WHEN 'earn_text_request' THEN CAST(:text_interval AS interval)
                WHEN 'earn_vision_request' THEN CAST(:vision_interval AS interval)
                ELSE CAST(:chart_interval AS interval) END)
    LIMIT 20
"""
UNJUSTIFIED_CAPS = """
    SELECT r.user_id, r.id, r.metadata_json ->> 'outcome', r.amount, earlier.total
    FROM points_transactions r
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(p.amount), 0) AS total FROM points_transactions p
        WHERE p.user_id = r.user_id AND p.id < r.id AND p.amount > 0
          AND p.transaction_type IN
              ('earn_text_request', 'earn_vision_request', 'earn_chart_request')
          AND (p.created_at AT TIME ZONE :tz)::date = (r.created_at AT TIME ZONE :tz)::date
    ) earlier
    WHERE r.metadata_json ->> 'outcome' IN ('capped', 'partially_capped')
      AND earlier.total + r.amount <> :cap
    LIMIT 20
"""
UNJUSTIFIED_REFUSED_DEBITS = """
    SELECT user_id, id, balance_before, metadata_json ->> 'requested'
    FROM points_transactions
    WHERE metadata_json ->> 'outcome' = 'insufficient_funds'
      AND (amount <> 0 OR balance_before + (metadata_json ->> 'requested')::bigint >= 0)
    LIMIT 20
"""


async def _create_users(
    sessions: async_sessionmaker[AsyncSession], points: PointsService
) -> tuple[dict[int, Tier], tuple[int, ...], dict[tuple[int, str], KeyRecord]]:
    """USERS users over every tier and level, the top-level ones, and the level-lifting grants."""
    users: dict[int, Tier] = {}
    hot: list[int] = []
    seeded: dict[tuple[int, str], KeyRecord] = {}
    for i in range(USERS):
        tier = TIERS[i % len(TIERS)]
        level = 1 + i % points.rules.max_level
        user_id = await create_user(sessions, tier=tier)
        users[user_id] = tier
        if level == points.rules.max_level:
            hot.append(user_id)
        needed = points.rules.level(level).points_required
        if needed:
            key = f"seed:{user_id}"
            out = await points.admin_grant(user_id=user_id, amount=needed, admin_id=1, key=key)
            assert out.level_after == level
            seeded[(user_id, key)] = KeyRecord(
                user_id=user_id,
                transaction_type=out.transaction_type,
                outcome=out.outcome.value,
                amount=out.amount,
                balance_after=out.balance_after,
                streak=None,
                originals=1,
            )
    return users, tuple(hot), seeded


def _collect(
    processes: list[SpawnProcess], results: Queue[WorkerReport], timeout: float
) -> list[WorkerReport]:
    """One report per process; fails fast if a process dies without sending one."""
    reports: list[WorkerReport] = []
    deadline = time.monotonic() + timeout
    while len(reports) < len(processes):
        try:
            reports.append(results.get(timeout=0.5))
            continue
        except queue.Empty:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(reports)} of {len(processes)} workers reported")
        if all(not p.is_alive() for p in processes):
            try:
                reports.append(results.get(timeout=2))
            except queue.Empty:
                codes = [p.exitcode for p in processes]
                raise AssertionError(f"workers exited without a report: {codes}") from None
    return reports


def _run_processes(configs: list[WorkerConfig]) -> list[WorkerReport]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(configs))
    results: Queue[WorkerReport] = ctx.Queue()
    processes = [
        ctx.Process(target=run_worker, args=(cfg, barrier, results), daemon=True) for cfg in configs
    ]
    for process in processes:
        process.start()
    try:
        return _collect(processes, results, COLLECT_TIMEOUT)
    finally:
        for process in processes:
            process.join(timeout=15)
            if process.is_alive():  # only ever our own children
                process.kill()
                process.join(timeout=5)


def _merge_keys(
    seeded: dict[tuple[int, str], KeyRecord], reports: list[WorkerReport]
) -> tuple[dict[tuple[int, str], KeyRecord], list[str]]:
    """All keys seen by anyone, with calls summed; plus disagreements between processes."""
    merged = {key: dataclasses.replace(record) for key, record in seeded.items()}
    problems: list[str] = []
    for report in reports:
        for key, record in report.keys.items():
            known = merged.get(key)
            if known is None:
                merged[key] = dataclasses.replace(record)
                continue
            if not known.same_result(record):
                problems.append(f"{key}: {known} vs worker {report.worker_id}: {record}")
            known.originals += record.originals
            known.replays += record.replays
    return merged, problems


@pytest.mark.slow
async def test_concurrent_processes_keep_every_ledger_invariant(
    app_database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    clean_db: None,
) -> None:
    rules: PointsRules = load_rules(DAILY_CAP, INTERVALS)
    points = PointsService(engine=engine, session_factory=sessions, rules=rules, clock=None)
    users, hot_users, seeded = await _create_users(sessions, points)

    seed = int(time.time())
    configs = [
        WorkerConfig(
            worker_id=w,
            database_url=app_database_url,  # the workers connect as the bot does
            users=users,
            hot_users=hot_users,
            daily_cap=DAILY_CAP,
            intervals=INTERVALS,
            tasks=TASKS_PER_PROCESS,
            seconds=SECONDS,
            seed=seed,
        )
        for w in range(PROCESSES)
    ]
    started = time.monotonic()
    reports = await asyncio.to_thread(_run_processes, configs)
    elapsed = time.monotonic() - started

    # What the processes did, summed: shown with every failure below.
    counts: Counter[str] = Counter()
    for report in reports:
        counts.update(report.counts)
    outcomes: Counter[str] = Counter()  # "earn_text_request:awarded" -> calls
    for name, n in counts.items():
        if name.startswith("outcome:"):
            outcomes[name.removeprefix("outcome:")] += n
    log_events = sum((r.log_events for r in reports), Counter[str]())
    summary = (
        f"seed {seed}, {elapsed:.1f}s for {len(reports)} processes x {TASKS_PER_PROCESS} tasks; "
        f"{counts['calls']} calls, {counts['paid']} paid, {counts['refused']} refused, "
        f"{counts['duplicates']} duplicates ({counts['replay_calls']} deliberate replays), "
        f"{counts['conflicts']} conflicts, {log_events['points call retried']} retries; "
        f"outcomes {dict(sorted(outcomes.items()))}; "
        f"batches: {sum(r.batch_calls for r in reports)} calls for "
        f"{sum(r.batched_items for r in reports)} movements, largest "
        f"{max(r.largest_batch for r in reports)}"
    )

    # 1. Every process ran to the end, with no unexpected exception and no wrong answer.
    for report in reports:
        assert report.fatal is None, f"worker {report.worker_id} died:\n{report.fatal}"
        assert report.error_count == 0, (
            f"worker {report.worker_id}: {report.error_count} unexpected exceptions, "
            f"first ones:\n" + "\n".join(report.errors)
        )
        assert not report.violations, "\n".join(report.violations)
    assert max(r.started_at for r in reports) < min(r.finished_at for r in reports), (
        "the processes did not overlap"
    )
    # Group commit is on by default: the movements really went out in shared calls, and no
    # batch failed (a failure would be a bug here: every movement of this load is valid).
    assert max(r.largest_batch for r in reports) > 1, summary
    assert sum(r.batch_fallbacks for r in reports) == 0, summary

    # 2. The audit: every SPEC 2 invariant, the daily cap and the intervals, for every user.
    audit = await audit_ledger(engine, rules, TIMEZONE)
    assert audit.ok, f"{audit.summary()}; {summary}"

    # 3. Every ledger row was written by exactly one call; all other calls were replays of it,
    #    and every process was told the same outcome for it.
    merged, disagreements = _merge_keys(seeded, reports)
    assert not disagreements, "\n".join(disagreements[:10])
    written_twice = {k: r.originals for k, r in merged.items() if r.originals != 1}
    assert not written_twice, f"keys written by more than one call (or none): {written_twice}"
    async with engine.connect() as conn:
        ledger = {
            (user_id, key): (ttype, amount, balance_after)
            for user_id, key, ttype, amount, balance_after in await conn.execute(
                text(
                    "SELECT user_id, transaction_id, transaction_type, amount, balance_after "
                    "FROM points_transactions"
                )
            )
        }
        balances = {
            user_id: (balance, earned, spent)
            for user_id, balance, earned, spent in await conn.execute(
                text(
                    "SELECT user_id, balance, lifetime_earned, lifetime_spent FROM points_balances"
                )
            )
        }
        intervals = {
            f"{action.name.lower()}_interval": timedelta(seconds=seconds)
            for action, seconds in INTERVALS.items()
        }
        unjustified = {
            "rate_limited": (await conn.execute(text(UNJUSTIFIED_RATE_LIMITS), intervals)).all(),
            "capped": (
                await conn.execute(text(UNJUSTIFIED_CAPS), {"tz": TIMEZONE, "cap": DAILY_CAP})
            ).all(),
            "insufficient_funds": (await conn.execute(text(UNJUSTIFIED_REFUSED_DEBITS))).all(),
        }
    assert set(ledger) == set(merged), (
        f"rows nobody was told about: {sorted(set(ledger) - set(merged))[:5]}; "
        f"answers with no row: {sorted(set(merged) - set(ledger))[:5]}"
    )
    mismatched = {
        key: (ledger[key], (r.transaction_type, r.amount, r.balance_after))
        for key, r in merged.items()
        if ledger[key] != (r.transaction_type, r.amount, r.balance_after)
    }
    assert not mismatched, f"callers were told something else than the ledger holds: {mismatched}"
    assert not any(unjustified.values()), f"refusals that were not justified: {unjustified}"

    # 4. The points the callers saw move add up to every user's balance and lifetime totals.
    credits: Counter[int] = Counter()
    debits: Counter[int] = Counter()
    for grant in seeded.values():
        credits[grant.user_id] += grant.amount
    for report in reports:
        credits.update(report.credits_by_user)
        debits.update(report.debits_by_user)
    expected = {u: (credits[u] - debits[u], credits[u], debits[u]) for u in users}
    assert balances == expected, f"observed movements do not add up to the balances; {summary}"

    # 5. The interesting paths really ran.
    def seen(*names: str) -> int:
        return sum(n for key, n in outcomes.items() if key.endswith(names))

    assert seen(*(f"{a.value}:awarded" for a in RequestAction)) > 0, summary
    assert seen(":rate_limited") > 0, summary
    assert seen(":capped", ":partially_capped") > 0, summary
    assert seen(":debited") > 0, summary
    assert seen(":insufficient_funds") > 0, summary
    assert counts["replay_calls"] > 0, summary  # each one was checked to be a duplicate
    assert counts["conflict_calls"] > 0, summary
    assert counts["conflicts"] == counts["conflict_calls"], summary
    assert counts[f"duplicate:{TransactionType.DAILY_LOGIN}"] > 0, summary
    # One paying daily claim per user and day (two days if the run straddles midnight).
    daily = Counter(u for (u, _), (t, _, _) in ledger.items() if t == TransactionType.DAILY_LOGIN)
    assert daily and max(daily.values()) <= 2, f"daily claims written: {daily}; {summary}"
    raced = Counter(k for report in reports for k in report.keys if k[1].startswith("race:"))
    assert any(n > 1 for n in raced.values()), f"no key was raced between processes; {summary}"
    print(summary)
