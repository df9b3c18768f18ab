"""What one run of the earn benchmark measured, its verdicts, and how it is printed and saved."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from bench.bench_db import PgbenchResult
from bench.cpu import Cpu, cpu_count
from bench.earn_load import LoadResult
from src.services.ledger_audit import AuditReport

TARGET_RATIO = 1.2  # earn calls/s over pgbench simple-update tps, same clients, same run
TARGET_WIDE_RATIO = 1.6  # the same with many more clients
TARGET_P99_MS = 20.0
TARGET_HOT_PER_S = 8_000.0
TARGET_INDEX_SHARE = 0.95  # earn rate with the rank index kept / without, same run
NOISY_CORES = 0.2  # busy cores before the run above which the report warns


@dataclass(frozen=True)
class Verdict:
    name: str
    measured: str
    single: str  # the same figure with batching off ("" when not measured)
    target: str
    passed: bool
    note: str = ""  # by how much a missed target was missed

    @property
    def result(self) -> str:
        return "PASS" if self.passed else f"MISS ({self.note})" if self.note else "MISS"


@dataclass(frozen=True)
class Phase:
    """One load run with batching on, and the same run with batching off (None: skipped)."""

    batched: LoadResult
    single: LoadResult | None
    indexed: tuple[LoadResult, ...] = ()  # batching on, a rank index kept in step
    again: LoadResult | None = None  # batching on, no index, right after the indexed runs

    def index_share(self, result: LoadResult) -> float:
        """Earn rate with an index over the mean rate of the runs without, before and after."""
        assert self.again is not None
        return result.calls_per_s / ((self.batched.calls_per_s + self.again.calls_per_s) / 2)


@dataclass(frozen=True)
class Run:
    """Everything one benchmark run measured."""

    where: str
    settings: dict[str, str]
    background: float | None
    baseline: PgbenchResult  # pgbench simple-update with the earn run's clients
    earn: Phase
    wide_baseline: PgbenchResult | None  # the same with the wide run's clients
    wide: Phase | None
    hot: Phase
    light: Phase | None  # a fixed, light arrival rate
    ceiling: PgbenchResult | None
    audit: AuditReport
    clients: int
    wide_clients: int

    def verdicts(self) -> list[Verdict]:
        earn, base = self.earn, self.baseline.tps
        out = [
            _at_least(
                f"earn / baseline, c={self.clients}",
                earn.batched.calls_per_s / base,
                _opt(earn.single, lambda r: r.calls_per_s / base),
                TARGET_RATIO,
                ".2f",
            )
        ]
        if self.wide is not None and self.wide_baseline is not None:
            wide_base = self.wide_baseline.tps
            out.append(
                _at_least(
                    f"earn / baseline, c={self.wide_clients}",
                    self.wide.batched.calls_per_s / wide_base,
                    _opt(self.wide.single, lambda r: r.calls_per_s / wide_base),
                    TARGET_WIDE_RATIO,
                    ".2f",
                )
            )
        p99 = earn.batched.p99_ms
        out.append(
            Verdict(
                f"earn p99 latency, c={self.clients}",
                f"{p99:.1f} ms",
                _opt(earn.single, lambda r: f"{r.p99_ms:.1f} ms") or "",
                f"<= {TARGET_P99_MS:.0f} ms",
                p99 <= TARGET_P99_MS,
                f"over by {p99 - TARGET_P99_MS:.1f} ms",
            )
        )
        hot = self.hot.batched.calls_per_s
        out.append(
            _at_least(
                "hot user, earns/s",
                hot,
                _opt(self.hot.single, lambda r: r.calls_per_s),
                TARGET_HOT_PER_S,
                ",.0f",
            )
        )
        for indexed in earn.indexed:
            out.append(
                _at_least(
                    f"earn with {indexed.rank_index} / without",
                    earn.index_share(indexed),
                    None,
                    TARGET_INDEX_SHARE,
                    ".2f",
                )
            )
        out.append(
            Verdict(
                "invariants", "OK" if self.audit.ok else "VIOLATED", "", "all hold", self.audit.ok
            )
        )
        return out


def _opt(result: LoadResult | None, figure: Any) -> Any:
    return None if result is None else figure(result)


def _at_least(name: str, value: float, single: float | None, target: float, fmt: str) -> Verdict:
    return Verdict(
        name,
        f"{value:{fmt}}",
        "" if single is None else f"{single:{fmt}}",
        f">= {target:{fmt}}",
        value >= target,
        f"short by {target - value:{fmt}} ({(target - value) / target:.0%})",
    )


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


def _load_lines(name: str, result: LoadResult) -> list[str]:
    mode = "batching on" if result.batching else "single calls"
    head = f"{name} ({mode}):"
    batches = ""
    if result.mean_batch is not None:
        batches = f"; {result.batch_calls:,} database calls, {result.mean_batch:.1f} per call "
        batches += f"on average, largest {result.largest_batch}"
    redis = ""
    if result.redis_cores is not None and result.calls_per_s > 0:
        redis = (
            f"; Redis server {result.redis_cores:.2f} cores "
            f"({result.redis_cores / result.calls_per_s * 1e6:,.0f} us/call, part of other)"
        )
    return [
        f"{head:<28}{result.calls:,} calls in {result.duration:.0f} s from {result.processes} "
        f"processes; p50 {result.p50_ms:.1f} ms, p90 {result.p90_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms, max {result.max_ms:.1f} ms{batches}",
        f"{'':28}{_outcomes(result)} ({result.replays:,} replays sent)",
        f"{'':28}CPU: {_cpu(result.cpu, result.calls_per_s)}{redis}",
    ]


def _pgbench_lines(name: str, result: PgbenchResult) -> list[str]:
    return [
        f"{name + ':':<28}{result.command}; {result.tps:,.0f} tps, latency avg "
        f"{result.latency_ms} ms, failed {result.failed}",
        f"{'':28}CPU: {_cpu(result.cpu, result.tps)}",
    ]


def _table(run: Run) -> list[str]:
    checks = {v.name: v for v in run.verdicts()}

    def check(name: str) -> tuple[str, str, str, str, str]:
        v = checks[name]
        return (v.name, v.measured, v.single, v.target, v.result)

    def rate(phase: Phase, unit: str = "calls/s") -> tuple[str, str]:
        single = phase.single
        return (
            f"{phase.batched.calls_per_s:,.0f} {unit}",
            "" if single is None else f"{single.calls_per_s:,.0f} {unit}",
        )

    c, w = run.clients, run.wide_clients
    rows: list[tuple[str, str, str, str, str]] = [
        (f"pgbench simple-update, c={c} (baseline)", f"{run.baseline.tps:,.0f} tps", "", "", ""),
        (f"earn, c={c}", *rate(run.earn), "", ""),
        check(f"earn / baseline, c={c}"),
    ]
    for idx in run.earn.indexed:
        rows += [
            (
                f"earn, c={c}, rank index kept: {idx.rank_index}",
                f"{idx.calls_per_s:,.0f} calls/s",
                "",
                "",
                "",
            ),
            check(f"earn with {idx.rank_index} / without"),
        ]
    if run.wide is not None and run.wide_baseline is not None:
        rows += [
            (f"pgbench simple-update, c={w}", f"{run.wide_baseline.tps:,.0f} tps", "", "", ""),
            (f"earn, c={w}", *rate(run.wide), "", ""),
            check(f"earn / baseline, c={w}"),
            (
                f"  (earn, c={w}) / baseline c={c}",
                f"{run.wide.batched.calls_per_s / run.baseline.tps:.2f}",
                ""
                if run.wide.single is None
                else f"{run.wide.single.calls_per_s / run.baseline.tps:.2f}",
                "",
                "",
            ),
            (
                f"earn p99 latency, c={w}",
                f"{run.wide.batched.p99_ms:.1f} ms",
                _opt(run.wide.single, lambda r: f"{r.p99_ms:.1f} ms") or "",
                "",
                "",
            ),
        ]
    e = run.earn
    rows += [
        (
            f"earn p50 latency, c={c}",
            f"{e.batched.p50_ms:.1f} ms",
            _opt(e.single, lambda r: f"{r.p50_ms:.1f} ms") or "",
            "",
            "",
        ),
        check(f"earn p99 latency, c={c}"),
        check("hot user, earns/s"),
    ]
    if run.light is not None:
        light, single = run.light.batched, run.light.single

        def p(r: LoadResult) -> str:
            return f"{r.p50_ms:.2f} / {r.p99_ms:.2f} ms"

        rate_s = f"{light.rate:,.0f}/s" if light.rate else ""
        rows.append(
            (
                f"light load {rate_s}: p50 / p99",
                p(light),
                "" if single is None else p(single),
                "",
                "",
            )
        )
    rows.append(check("invariants"))
    if run.ceiling is not None:
        rows.append(
            (
                f"earn driven by pgbench, c={c} (ceiling)",
                f"{run.ceiling.tps:,.0f} tps = {run.ceiling.tps / run.baseline.tps:.2f}",
                "",
                "",
                "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("", "batching on", "single call", "target", "result")
    return [
        "  ".join(
            [
                f"{r[0]:{widths[0]}}",
                f"{r[1]:>{widths[1]}}",
                f"{r[2]:>{widths[2]}}",
                f"{r[3]:<{widths[3]}}",
                r[4],
            ]
        ).rstrip()
        for r in [header, *rows]
    ]


def render(run: Run) -> str:
    s = run.settings
    lines = [
        f"Earn path benchmark: {run.where}; PostgreSQL {s.get('server_version', '?')}, "
        f"synchronous_commit={s.get('synchronous_commit', '?')}, fsync={s.get('fsync', '?')}, "
        f"{cpu_count()} CPUs",
        "",
        *_table(run),
        "",
        *_pgbench_lines(f"baseline c={run.clients}", run.baseline),
    ]
    if run.wide_baseline is not None:
        lines += _pgbench_lines(f"baseline c={run.wide_clients}", run.wide_baseline)
    named = [(f"earn c={run.clients}", run.earn), ("hot user", run.hot)]
    if run.wide is not None:
        named.insert(1, (f"earn c={run.wide_clients}", run.wide))
    if run.light is not None:
        named.append(("light load", run.light))
    for name, phase in named:
        lines += _load_lines(name, phase.batched)
        for indexed in phase.indexed:
            lines += _load_lines(f"{name}, {indexed.rank_index}", indexed)
        if phase.again is not None:
            lines += _load_lines(f"{name}, no index again", phase.again)
        if phase.single is not None:
            lines += _load_lines(name, phase.single)
    if run.ceiling is not None:
        lines += _pgbench_lines("ceiling", run.ceiling)
    lines.append(f"{'audit:':<28}{run.audit.summary()}")
    if run.background is not None:
        loads = [p.batched for _, p in named] + [p.single for _, p in named if p.single]
        noisy = run.background >= NOISY_CORES or any(
            (r.cpu.other_cores or 0) >= NOISY_CORES * 2 for r in loads
        )
        note = "  <- other work on the machine: figures are noisy" if noisy else ""
        lines.append(f"{'noise:':<28}{run.background:.2f} cores busy before the run{note}")
    return "\n".join(lines)


def to_json(run: Run, options: dict[str, Any], command: str) -> dict[str, Any]:
    def load(result: LoadResult | None) -> dict[str, Any] | None:
        if result is None:
            return None
        return {
            **asdict(result),
            "mean_batch": result.mean_batch,
            "cpu_per_call_us": result.cpu.per_call_us(result.calls_per_s),
        }

    def pgbench(result: PgbenchResult | None) -> dict[str, Any] | None:
        if result is None:
            return None
        return {**asdict(result), "cpu_per_call_us": result.cpu.per_call_us(result.tps)}

    def phase(p: Phase | None) -> dict[str, Any] | None:
        if p is None:
            return None
        return {
            "batched": load(p.batched),
            "single": load(p.single),
            "indexed": [load(i) for i in p.indexed],
            "again": load(p.again),
            "index_share": [p.index_share(i) for i in p.indexed],
        }

    out: dict[str, Any] = _finite(
        {
            "command": command,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "database": run.where,
            "server": run.settings,
            "cpus": cpu_count(),
            "background_cores": run.background,
            "options": options,
            "baseline": pgbench(run.baseline),
            "earn": phase(run.earn),
            "wide_baseline": pgbench(run.wide_baseline),
            "wide": phase(run.wide),
            "hot_user": phase(run.hot),
            "light": phase(run.light),
            "ceiling": pgbench(run.ceiling),
            "audit": {
                "ok": run.audit.ok,
                "summary": run.audit.summary(),
                "users": run.audit.users,
                "transactions": run.audit.transactions,
            },
            "targets": [asdict(v) for v in run.verdicts()],
        }
    )
    return out


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
