"""Earn-path benchmark: `./manage.sh bench` (python -m bench.earn_bench).

In one run on one PostgreSQL database: the pgbench simple-update baseline, the earn load
(many clients, many users, some replayed keys), one hot user hammered by every client, the
same earn load driven by pgbench (what the database alone can do), and the ledger audit. Figures are reported as ratios to the baseline measured in the same run,
because absolute numbers on a small shared machine are noise. Results also go to
bench/out/earn.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bench.bench_db import (
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
from bench.cpu import Cpu, background_cores, cpu_count
from bench.earn_load import LoadPlan, LoadResult, run_load
from config.points_config import DEFAULT_RULES
from src.database.engine import create_engine
from src.services.ledger_audit import AuditReport, audit_ledger

OUT_DIR = Path(__file__).resolve().parent / "out"

TARGET_RATIO = 0.5  # earn tps / pgbench simple-update tps
TARGET_P99_MS = 20.0
TARGET_HOT_PER_S = 1_000.0
NOISY_CORES = 0.2  # busy cores before the run above which the report warns


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
    if args.users < 1 or not 0 <= args.replay_ratio < 1:
        parser.error("need --users >= 1 and 0 <= --replay-ratio < 1")
    return args


@dataclass(frozen=True)
class Verdict:
    name: str
    measured: str
    target: str
    passed: bool
    note: str = ""  # by how much a missed target was missed

    @property
    def result(self) -> str:
        return "PASS" if self.passed else f"MISS ({self.note})" if self.note else "MISS"


@dataclass(frozen=True)
class Run:
    """Everything one benchmark run measured."""

    where: str
    settings: dict[str, str]
    background: float | None
    baseline: PgbenchResult
    earn: LoadResult
    hot: LoadResult
    ceiling: PgbenchResult | None
    audit: AuditReport

    @property
    def ratio(self) -> float:
        return self.earn.calls_per_s / self.baseline.tps

    def verdicts(self) -> list[Verdict]:
        ratio, p99, hot = self.ratio, self.earn.p99_ms, self.hot.calls_per_s
        return [
            Verdict(
                "earn / baseline",
                f"{ratio:.2f}",
                f">= {TARGET_RATIO:.2f}",
                ratio >= TARGET_RATIO,
                _short_by(ratio, TARGET_RATIO, ".2f"),
            ),
            Verdict(
                "earn p99 latency",
                f"{p99:.1f} ms",
                f"<= {TARGET_P99_MS:.0f} ms",
                p99 <= TARGET_P99_MS,
                f"over by {p99 - TARGET_P99_MS:.1f} ms ({(p99 - TARGET_P99_MS) / TARGET_P99_MS:.0%})",
            ),
            Verdict(
                "hot user",
                f"{hot:,.0f} earns/s",
                f">= {TARGET_HOT_PER_S:,.0f}/s",
                hot >= TARGET_HOT_PER_S,
                _short_by(hot, TARGET_HOT_PER_S, ",.0f"),
            ),
            Verdict("invariants", "OK" if self.audit.ok else "VIOLATED", "all hold", self.audit.ok),
        ]


def _short_by(value: float, target: float, fmt: str) -> str:
    return f"short by {target - value:{fmt}} ({(target - value) / target:.0%})"


def _audit(url: str) -> AuditReport:
    async def run() -> AuditReport:
        engine = create_engine(url, pool_size=1)
        try:
            return await audit_ledger(engine, DEFAULT_RULES, "UTC")
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _outcomes(result: LoadResult) -> str:
    parts = [f"{name} {count:,}" for name, count in sorted(result.outcomes.items())]
    if result.errors:
        parts += [f"ERROR {name} {count:,}" for name, count in sorted(result.errors.items())]
    return ", ".join(parts)


def _cpu(cpu: Cpu, rate: float) -> str:
    """Cores in use and CPU time per call: load generator, its PostgreSQL backends, the rest."""
    per = cpu.per_call_us(rate)

    def fmt(name: str, cores: float | None, us: float | None) -> str:
        if cores is None or us is None:
            return f"{name} n/a"
        return f"{name} {cores:.2f} cores ({us:,.0f} us/call)"

    other = cpu.other_cores
    return ", ".join(
        [
            fmt("client", cpu.client_cores, per["client"]),
            fmt("server", cpu.server_cores, per["server"]),
            f"other {'n/a' if other is None else f'{other:.2f} cores'}",
        ]
    )


def render(run: Run) -> str:
    checks = {v.name: v for v in run.verdicts()}

    def check(name: str) -> tuple[str, str, str, str]:
        v = checks[name]
        return (v.name, v.measured, v.target, v.result)

    base, earn, hot, ceiling = run.baseline, run.earn, run.hot, run.ceiling
    rows = [
        ("pgbench simple-update (baseline)", f"{base.tps:,.0f} tps", "", ""),
        ("earn", f"{earn.calls_per_s:,.0f} calls/s", "", ""),
        check("earn / baseline"),
        ("earn p50 latency", f"{earn.p50_ms:.1f} ms", "", ""),
        check("earn p99 latency"),
        check("hot user"),
        check("invariants"),
    ]
    if ceiling is not None:
        rows += [
            ("earn driven by pgbench (ceiling)", f"{ceiling.tps:,.0f} tps", "", ""),
            ("  ceiling / baseline", f"{ceiling.tps / base.tps:.2f}", "", ""),
        ]
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    s = run.settings
    lines = [
        f"Earn path benchmark: {run.where}; PostgreSQL {s.get('server_version', '?')}, "
        f"synchronous_commit={s.get('synchronous_commit', '?')}, fsync={s.get('fsync', '?')}, "
        f"{cpu_count()} CPUs",
        "",
        f"{'':{w[0]}}  {'measured':>{w[1]}}  {'target':<{w[2]}}  result",
        *(f"{a:{w[0]}}  {b:>{w[1]}}  {c:<{w[2]}}  {d}".rstrip() for a, b, c, d in rows),
        "",
        f"baseline: {base.command}",
        f"          latency avg {base.latency_ms} ms, failed {base.failed}",
        f"          CPU: {_cpu(base.cpu, base.tps)}",
        f"earn:     {earn.calls:,} calls in {earn.duration:.0f} s from {earn.processes} client "
        f"processes; p90 {earn.p90_ms:.1f} ms, max {earn.max_ms:.1f} ms",
        f"          {_outcomes(earn)} ({earn.replays:,} replays sent)",
        f"          CPU: {_cpu(earn.cpu, earn.calls_per_s)}",
        f"hot user: {hot.calls:,} calls in {hot.duration:.0f} s; p50 {hot.p50_ms:.1f} ms, "
        f"p99 {hot.p99_ms:.1f} ms",
        f"          {_outcomes(hot)}",
        f"          CPU: {_cpu(hot.cpu, hot.calls_per_s)}",
    ]
    if ceiling is not None:
        lines += [
            f"ceiling:  {ceiling.command}",
            f"          latency avg {ceiling.latency_ms} ms, failed {ceiling.failed}",
            f"          CPU: {_cpu(ceiling.cpu, ceiling.tps)}",
        ]
    lines.append(f"audit:    {run.audit.summary()}")
    if run.background is not None:
        noisy = run.background >= NOISY_CORES or any(
            (r.cpu.other_cores or 0) >= NOISY_CORES * 2 for r in (base, earn, hot)
        )
        note = "  <- other work on the machine: figures are noisy" if noisy else ""
        lines.append(f"noise:    {run.background:.2f} cores busy before the run{note}")
    return "\n".join(lines)


def to_json(run: Run, args: argparse.Namespace, command: str) -> dict[str, Any]:
    def phase(result: PgbenchResult | LoadResult | None, rate: float) -> dict[str, Any] | None:
        if result is None:
            return None
        return {**asdict(result), "cpu_per_call_us": result.cpu.per_call_us(rate)}

    return {
        "command": command,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database": run.where,
        "server": run.settings,
        "cpus": cpu_count(),
        "background_cores": run.background,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "baseline": phase(run.baseline, run.baseline.tps),
        "earn": phase(run.earn, run.earn.calls_per_s),
        "earn_to_baseline": run.ratio,
        "hot_user": phase(run.hot, run.hot.calls_per_s),
        "ceiling": phase(run.ceiling, run.ceiling.tps if run.ceiling else 0.0),
        "ceiling_to_baseline": run.ceiling.tps / run.baseline.tps if run.ceiling else None,
        "audit": {
            "ok": run.audit.ok,
            "summary": run.audit.summary(),
            "users": run.audit.users,
            "transactions": run.audit.transactions,
        },
        "targets": [asdict(v) for v in run.verdicts()],
    }


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db = resolve_database(args.database_url)
    _log(f"database: {db.where}; resetting its schema")
    reset_schema(db)
    settings = server_settings(db)
    background = background_cores()

    _log(f"baseline: pgbench -i -s {args.scale}, then simple-update for {args.duration} s")
    baseline = pgbench_baseline(
        db,
        scale=args.scale,
        clients=args.clients,
        threads=args.pgbench_threads,
        duration=args.duration,
    )
    _log(f"baseline: {baseline.tps:,.0f} tps; seeding {args.users:,} users")
    seed_users(db, args.users)
    checkpoint(db)

    earn_plan = LoadPlan(
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
    )
    _log(f"earn: {args.clients} clients in {args.processes} processes for {args.duration} s")
    earn = run_load(earn_plan)
    _log(f"earn: {earn.calls_per_s:,.0f} calls/s; hot user for {args.hot_duration} s")
    checkpoint(db)
    hot_user = args.users + 1  # seeded with the others, untouched by the earn run
    hot = run_load(
        replace(
            earn_plan, name="hot", duration=args.hot_duration, hot_user=hot_user, replay_ratio=0.0
        )
    )
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

    run = Run(db.where, settings, background, baseline, earn, hot, ceiling, audit)
    print(render(run))
    command = " ".join(["python -m bench.earn_bench", *(sys.argv[1:] if argv is None else argv)])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(_finite(to_json(run, args, command)), indent=2) + "\n", encoding="utf-8"
    )
    _log(f"results written to {args.json}")
    return 0  # a benchmark, not a test: a missed target is reported, not an error


if __name__ == "__main__":
    raise SystemExit(main())
