"""Earn-path benchmark: `./manage.sh bench` (python -m bench.earn_bench).

In one run on one PostgreSQL database: the pgbench simple-update baseline (with the earn
run's clients, and again with the wide run's), the earn load (many clients, many users, some
replayed keys) with group commit on and then off, the same with many more clients, one hot
user hammered by every client, a light fixed arrival rate (what one call pays when nothing
else is queued), the same earn load driven by pgbench (what the database alone can do), and
the ledger audit. Figures are reported as ratios to the baseline measured in the same run,
because absolute numbers on a small shared machine are noise. Results also go to
bench/out/earn.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from bench.bench_db import (
    BenchDatabase,
    PgbenchResult,
    checkpoint,
    earn_script,
    pgbench_baseline,
    pgbench_earn,
    reset_schema,
    resolve_database,
    seed_users,
    server_settings,
)
from bench.cpu import background_cores
from bench.earn_load import LoadPlan, run_load
from bench.earn_report import Phase, Run, render, to_json
from config.points_config import DEFAULT_RULES
from src.database.engine import create_engine
from src.services.ledger_audit import AuditReport, audit_ledger
from src.services.rank_redis import RedisRanks
from src.services.rank_service import RankService

OUT_DIR = Path(__file__).resolve().parent / "out"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.earn_bench", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    parser.add_argument("--hot-duration", type=int, default=10, help="seconds of the hot-user run")
    parser.add_argument(
        "--ceiling-duration",
        type=int,
        default=10,
        help="seconds of the same earn load driven by pgbench (the database's ceiling); 0 skips",
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--wide-clients", type=int, default=128, help="clients of the second earn run; 0 skips"
    )
    parser.add_argument(
        "--light-rate", type=float, default=500.0, help="calls/s of the light run; 0 skips"
    )
    parser.add_argument("--light-duration", type=int, default=10)
    parser.add_argument(
        "--no-single",
        action="store_true",
        help="skip the runs with group commit off (one database call per earn)",
    )
    parser.add_argument(
        "--no-rank-index",
        action="store_true",
        help="skip the earn run with the rank index kept in step (markers, and Redis if given)",
    )
    parser.add_argument(
        "--rank-redis-url",
        default=os.environ.get("BENCH_REDIS_URL"),
        help="Redis for the rank-index run (default: $BENCH_REDIS_URL; none: markers only)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="most earns per call")
    parser.add_argument("--flushers", type=int, default=2, help="calls in flight per process")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument(
        "--processes", type=int, default=2, help="client processes the clients are spread over"
    )
    parser.add_argument("--replay-ratio", type=float, default=0.05)
    parser.add_argument("--scale", type=int, default=10, help="pgbench scale factor")
    parser.add_argument("--pgbench-threads", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        help="default: $BENCH_DATABASE_URL, else the embedded server's syntra_bench database "
        "(its contents are replaced)",
    )
    parser.add_argument(
        "--log-file",
        type=Path,
        help="write the service's log lines here as production does (default: dropped)",
    )
    parser.add_argument("--json", type=Path, default=OUT_DIR / "earn.json", help="results file")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.processes < 1 or args.processes > args.clients:
        parser.error("need 1 <= --processes <= --clients")
    if args.wide_clients and args.wide_clients < args.processes:
        parser.error("need --wide-clients >= --processes (or 0)")
    if args.users < 1 or not 0 <= args.replay_ratio < 1:
        parser.error("need --users >= 1 and 0 <= --replay-ratio < 1")
    if args.batch_size < 1 or args.flushers < 1 or args.light_rate < 0:
        parser.error("need --batch-size >= 1, --flushers >= 1, --light-rate >= 0")
    return args


def _audit(url: str) -> AuditReport:
    async def run() -> AuditReport:
        engine = create_engine(url, pool_size=1)
        try:
            return await audit_ledger(engine, DEFAULT_RULES, "UTC")
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _phase(
    db: BenchDatabase, plan: LoadPlan, single: bool, what: str, indexed: tuple[LoadPlan, ...] = ()
) -> Phase:
    """The plan with group commit on, then with each rank index kept (if given) and once more
    without, then with group commit off (unless skipped), from a clean checkpoint each."""
    checkpoint(db)
    batched = run_load(plan)
    rate = f"{batched.calls_per_s:,.0f} calls/s"
    if batched.mean_batch:
        rate += f" ({batched.mean_batch:.1f} per database call)"
    _log(f"{what}: {rate}")
    with_index, again = [], None
    for index_plan in indexed:
        asyncio.run(_build_rank_index(index_plan))
        checkpoint(db)
        result = run_load(index_plan)
        with_index.append(result)
        _log(f"{what}, rank index kept ({result.rank_index}): {result.calls_per_s:,.0f}/s")
        asyncio.run(_drop_rank_index(index_plan))
    if indexed:  # once more without: each index is compared with the runs around it
        checkpoint(db)
        again = run_load(replace(plan, name=f"{plan.name}-again", duration=plan.duration / 2))
        _log(f"{what}, without the index again: {again.calls_per_s:,.0f} calls/s")
    alone = None
    if single:
        checkpoint(db)
        alone = run_load(replace(plan, name=f"{plan.name}-single", batching=False))
        _log(f"{what}, single calls: {alone.calls_per_s:,.0f} calls/s")
    return Phase(batched, alone, tuple(with_index), again)


def _rank_service(plan: LoadPlan) -> RankService:
    engine = create_engine(plan.url, pool_size=2)
    redis = None
    if plan.rank_redis_url:
        redis = RedisRanks.from_url(plan.rank_redis_url, prefix=plan.rank_redis_prefix)
    return RankService(engine=engine, redis=redis)


async def _build_rank_index(plan: LoadPlan) -> None:
    """What a bot does when it starts: the markers and the Redis set from the database."""
    ranks = _rank_service(plan)
    try:
        await ranks.rebuild()
    finally:
        await ranks.aclose()


async def _drop_rank_index(plan: LoadPlan) -> None:
    ranks = _rank_service(plan)
    try:
        if ranks.redis is not None:
            await ranks.redis.delete_keys()
    finally:
        await ranks.aclose()


def _baseline(db: BenchDatabase, args: argparse.Namespace, clients: int) -> PgbenchResult:
    _log(f"baseline: pgbench -i -s {args.scale}, then simple-update c={clients}")
    result = pgbench_baseline(
        db, scale=args.scale, clients=clients, threads=args.pgbench_threads, duration=args.duration
    )
    _log(f"baseline c={clients}: {result.tps:,.0f} tps")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db = resolve_database(args.database_url)
    _log(f"database: {db.where}; resetting its schema")
    reset_schema(db)
    settings = server_settings(db)
    background = background_cores()
    single = not args.no_single

    baseline = _baseline(db, args, args.clients)
    wide_baseline = _baseline(db, args, args.wide_clients) if args.wide_clients else None
    _log(f"seeding {args.users:,} users")
    seed_users(db, args.users)
    # A live database is warm: pages touched, hint bits set. Without this the first measured
    # run pays for the first touch of every page (about 25% more server CPU per call).
    _log("settling the database: 5 s of earns, not measured")

    plan = LoadPlan(
        name="earn",
        url=db.url,
        database=db.dbname,
        clients=args.clients,
        processes=args.processes,
        duration=args.duration,
        warmup=args.warmup,
        users=args.users,
        replay_ratio=args.replay_ratio,
        seed=args.seed,
        log_file=args.log_file,
        batch_size=args.batch_size,
        flushers=args.flushers,
    )
    indexed: tuple[LoadPlan, ...] = ()
    if not args.no_rank_index:  # the markers alone (no REDIS_URL), then with Redis too
        indexed = (replace(plan, name="markers", rank_index=True),)
        if args.rank_redis_url:
            indexed += (
                replace(
                    plan,
                    name="redis",
                    rank_index=True,
                    rank_redis_url=args.rank_redis_url,
                    rank_redis_prefix=f"syntra-bench-{os.getpid()}:",
                ),
            )
    run_load(replace(plan, name="settle", warmup=5.0, duration=1.0))
    earn = _phase(db, plan, single, f"earn c={args.clients}", indexed)
    wide = None
    if args.wide_clients:
        wide_plan = replace(plan, name="wide", clients=args.wide_clients)
        wide = _phase(db, wide_plan, single, f"earn c={args.wide_clients}")
    hot_user = args.users + 1  # seeded with the others, untouched by the earn runs
    hot_plan = replace(
        plan, name="hot", duration=args.hot_duration, hot_user=hot_user, replay_ratio=0.0
    )
    hot = _phase(db, hot_plan, single, "hot user")
    light = None
    if args.light_rate:
        light_plan = replace(plan, name="light", duration=args.light_duration, rate=args.light_rate)
        light = _phase(db, light_plan, single, f"light load {args.light_rate:,.0f}/s")
    ceiling = None
    if args.ceiling_duration > 0:
        _log(f"database ceiling: the earn load driven by pgbench for {args.ceiling_duration} s")
        checkpoint(db)
        script = earn_script(
            DEFAULT_RULES, users=args.users, replay_ratio=args.replay_ratio, timezone="UTC"
        )
        ceiling = pgbench_earn(
            db,
            script,
            clients=args.clients,
            threads=args.pgbench_threads,
            duration=args.ceiling_duration,
        )
    _log("auditing the ledger")
    audit = _audit(db.url)

    run = Run(
        where=db.where,
        settings=settings,
        background=background,
        baseline=baseline,
        earn=earn,
        wide_baseline=wide_baseline,
        wide=wide,
        hot=hot,
        light=light,
        ceiling=ceiling,
        audit=audit,
        clients=args.clients,
        wide_clients=args.wide_clients,
    )
    print(render(run))
    command = " ".join(["python -m bench.earn_bench", *(sys.argv[1:] if argv is None else argv)])
    options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(to_json(run, options, command), indent=2) + "\n", "utf-8")
    _log(f"results written to {args.json}")
    return 0  # a benchmark, not a test: a missed target is reported, not an error


if __name__ == "__main__":
    raise SystemExit(main())
