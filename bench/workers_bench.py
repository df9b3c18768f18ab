"""Earn throughput with one and with two bot workers, direct and through PgBouncer.

python -m bench.workers_bench [--clients 32] [--duration 15] [--rounds 2]

A "worker" is a process with its own PointsService and group-commit batcher, as each bot
worker is (bench/earn_load.py runs the clients spread over `processes` such processes). The
same clients run with 1 and 2 processes, alternating, in rounds; pgbench simple-update at the
same concurrency is the baseline of the run. When `pgbouncer` is installed, the 2-process load
runs once more through a PgBouncer in transaction mode (DB_PGBOUNCER: statement cache off).
Take the CPU lock: `flock -x /tmp/syntra-cpu.lock python -m bench.workers_bench`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench.bench_db import pgbench_baseline, reset_schema, resolve_database, seed_users
from bench.earn_load import LoadPlan, LoadResult, run_load


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.workers_bench", description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--replay-ratio", type=float, default=0.05)
    parser.add_argument("--pgbouncer-pool", type=int, default=8, help="server connections")
    parser.add_argument("--no-pgbouncer", action="store_true")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args(argv)


def _row(label: str, result: LoadResult, baseline_tps: float) -> dict[str, Any]:
    row = {
        "run": label,
        "calls_per_s": round(result.calls_per_s),
        "ratio": round(result.calls_per_s / baseline_tps, 2),
        "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        "mean_batch": round(result.mean_batch or 0, 1),
        "errors": dict(result.errors),
    }
    _log(f"{label}: {row}")
    return row


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db = resolve_database(args.database_url)
    _log(f"database: {db.where}; resetting its schema")
    reset_schema(db)
    base = pgbench_baseline(
        db, scale=10, clients=args.clients, threads=2, duration=int(args.duration)
    )
    _log(f"baseline: {base.command}: {base.tps:,.0f} tps")
    seed_users(db, args.users)
    plan = LoadPlan(
        name="w",
        url=db.url,
        database=db.dbname,
        clients=args.clients,
        processes=1,
        duration=args.duration,
        warmup=args.warmup,
        users=args.users,
        replay_ratio=args.replay_ratio,
    )
    run_load(replace(plan, name="settle", duration=5.0))  # warm pages, not measured
    rows = []
    for n in range(args.rounds):
        for processes in (1, 2):
            result = run_load(replace(plan, name=f"w{processes}r{n}", processes=processes))
            rows.append(_row(f"{processes} worker(s), round {n + 1}", result, base.tps))
    if not args.no_pgbouncer:
        rows += _through_pgbouncer(args, plan, base.tps)
    out = {
        "baseline_tps": round(base.tps),
        "baseline": base.command,
        "clients": args.clients,
        "rows": rows,
        "baseline_cpu": asdict(base.cpu),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


def _through_pgbouncer(
    args: argparse.Namespace, plan: LoadPlan, baseline_tps: float
) -> list[dict[str, Any]]:
    from tests.support.pgbouncer import PGBOUNCER, PgBouncer

    if PGBOUNCER is None:
        _log("pgbouncer is not installed: its runs skipped")
        return []
    rows = []
    with PgBouncer(plan.url, pool_size=args.pgbouncer_pool) as bouncer:
        for n in range(args.rounds):
            direct = run_load(replace(plan, name=f"d{n}", processes=2))
            rows.append(_row(f"2 workers direct, round {n + 1}", direct, baseline_tps))
            bounced = replace(plan, name=f"b{n}", processes=2, url=bouncer.url, pgbouncer=True)
            rows.append(
                _row(f"2 workers via PgBouncer, round {n + 1}", run_load(bounced), baseline_tps)
            )
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
