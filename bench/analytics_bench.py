"""Analytics at scale: `./manage.sh bench analytics` (python -m bench.analytics_bench).

On a database seeded by bench/seed_data.py (seeded first if it holds too little, or with
--seed): the one-time rollup build, then every analytics section, the admin user card and the
top-10 leaderboard, each run warm several times, printing the median and the worst time of
each against its target; then the median user's rank by each path (the Redis sorted set when
a Redis URL is given, the PostgreSQL rank markers, counting), with its p95. Twice: with the state tables freshly
vacuumed, then after --churn earns through the real earn path and no vacuum since (what
production sees between autovacuums: new row versions, cleared visibility-map bits).
Results also go to bench/out/analytics.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.bench_db import server_settings
from bench.cpu import background_cores, cpu_count
from bench.rank_bench import RankTiming, rank_timings, spread
from bench.seed_data import (
    ANALYTICS_DATABASE,
    plan_from,
    resolve_analytics_database,
    run_seed,
)
from bench.seed_data import (
    parse_args as seed_args,
)
from config.points_config import RequestAction, load_points_rules
from config.settings import get_settings
from src.bootstrap import migrate
from src.bot.charts import earned_vs_spent_png
from src.database import analytics_queries, points_queries, rank_queries, user_queries
from src.database.engine import create_engine, create_session_factory
from src.services.analytics_service import AnalyticsService
from src.services.points_service import PointsService
from src.services.rank_redis import RedisRanks
from src.services.rank_service import RankConfig, RankService

OUT_DIR = Path(__file__).resolve().parent / "out"
SECTION_TARGET_MS = 300.0
CARD_TARGET_MS = 20.0
TOP10_TARGET_MS = 5.0


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Timing:
    name: str
    median_ms: float
    max_ms: float
    target_ms: float | None
    runs: int
    note: str = ""

    @property
    def passed(self) -> bool | None:
        return None if self.target_ms is None else self.max_ms <= self.target_ms


async def measure(
    name: str,
    call: Callable[[], Awaitable[Any]],
    *,
    repeat: int,
    target_ms: float | None,
    note: str = "",
) -> Timing:
    await call()  # warm: connections, plans, pages
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return Timing(name, statistics.median(times), max(times), target_ms, repeat, note)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.analytics_bench",
        description=__doc__.splitlines()[0] if __doc__ else "",
    )
    parser.add_argument("--repeat", type=int, default=7, help="measured runs per query")
    parser.add_argument(
        "--seed", action="store_true", help="(re)seed the database even if it holds data"
    )
    parser.add_argument("--users", type=int, default=1_000_000, help="for seeding")
    parser.add_argument("--transactions", type=int, default=10_000_000, help="for seeding")
    parser.add_argument("--days", type=int, default=90, help="for seeding")
    parser.add_argument(
        "--keep-rollups",
        action="store_true",
        help="do not clear the rollups first (by default their one-time build is timed)",
    )
    parser.add_argument(
        "--database-url",
        help=f"default: $BENCH_DATABASE_URL, else the embedded server's {ANALYTICS_DATABASE}",
    )
    parser.add_argument(
        "--churn",
        type=int,
        default=100_000,
        help="earns through the earn path before timing again without a vacuum (0: skip)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL") or get_settings().redis_url,
        help="time the rank from a Redis sorted set too (default: $BENCH_REDIS_URL, else "
        "REDIS_URL); its keys get their own prefix and are deleted afterwards",
    )
    parser.add_argument("--rank-runs", type=int, default=200, help="timed ranks per path")
    parser.add_argument("--json", type=Path, default=OUT_DIR / "analytics.json")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.churn < 0:
        parser.error("need --repeat >= 1 and --churn >= 0")
    return args


async def _count(url: str) -> tuple[int, int]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            if await conn.scalar(text("SELECT to_regclass('points_transactions')")) is None:
                return 0, 0
            # Planner estimates: instant, and close enough to tell a seeded database.
            users, rows = (
                await conn.execute(
                    text(
                        "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'users'::regclass), "
                        "(SELECT reltuples FROM pg_class "
                        " WHERE oid = 'points_transactions'::regclass)"
                    )
                )
            ).one()
            return max(int(users), 0), max(int(rows), 0)
    finally:
        await engine.dispose()


async def _autocommit(url: str, *statements: str) -> None:
    engine = create_engine(url, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def churn(points: PointsService, users: list[int], earns: int, clients: int = 16) -> float:
    """`earns` paid text requests through the real earn path, spread over `users`: each one
    updates a balance row (a new row version, index entries, a cleared visibility-map bit)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
        cache_logger_on_first_use=True,
    )
    rng = random.Random(1)
    run_id = f"{time.strftime('%Y%m%d%H%M%S')}-{random.randrange(10**6)}"
    left = earns

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await points.award_request(
                user_id=rng.choice(users),
                action=RequestAction.TEXT,
                key=f"churn:{run_id}:{left}",
            )

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started


async def run(url: str, args: argparse.Namespace, timezone: str) -> dict[str, Any]:
    settings = get_settings()
    rules = load_points_rules(settings.points_config_file)
    await _autocommit(url, "VACUUM (ANALYZE) points_balances")
    engine = create_engine(url, pool_size=16)
    sessions = create_session_factory(engine)
    analytics = AnalyticsService(
        engine=engine, session_factory=sessions, rules=rules, timezone=timezone
    )
    markers = RankService(engine=engine)
    with_redis = None
    if args.redis_url:
        prefix = f"syntra-bench-{os.getpid()}:"
        with_redis = RankService(
            engine=engine, redis=RedisRanks.from_url(args.redis_url, prefix=prefix)
        )
    points = PointsService(
        engine=engine,
        session_factory=sessions,
        rules=rules,
        timezone=timezone,
        ranks=with_redis or markers,  # the churn keeps the Redis set in step after commit
    )
    try:
        if not args.keep_rollups:
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM points_daily_totals"))
                await conn.execute(text("DELETE FROM points_rollup_state"))
        _log("rollups: materialising everything up to the watermark")
        started = time.perf_counter()
        through = await analytics.refresh_rollups()
        build_s = time.perf_counter() - started
        async with engine.connect() as conn:
            rolled = await conn.scalar(text("SELECT count(*) FROM points_daily_totals"))
            median_user, median_balance = (
                await conn.execute(
                    text(
                        "SELECT user_id, balance FROM points_balances ORDER BY balance, user_id "
                        "OFFSET (SELECT count(*) / 2 FROM points_balances) LIMIT 1"
                    )
                )
            ).one()
            top_earner = await conn.scalar(
                text("SELECT user_id FROM points_balances ORDER BY lifetime_earned DESC LIMIT 1")
            )
            active = list(
                (
                    await conn.scalars(
                        text(
                            "SELECT DISTINCT user_id FROM points_transactions "
                            "WHERE created_at >= (SELECT max(created_at) FROM points_transactions)"
                            " - interval '24 hours'"
                        )
                    )
                ).all()
            )
        _log(f"rollups: up to {through} in {build_s:,.1f} s; timing (freshly vacuumed)")

        async def card(user_id: int) -> None:
            async with sessions() as session:
                await points_queries.get_balance_row(session, user_id)
                await user_queries.get_user(session, user_id)
                await user_queries.count_referrals(session, user_id)
                await points_queries.history(session, user_id, limit=5, offset=0)

        series = await analytics.daily_series(30)
        r = args.repeat
        section = SECTION_TARGET_MS

        async def time_all() -> list[Timing]:
            return [
                await measure("overview", analytics.overview, repeat=r, target_ms=section),
                await measure("last 24 hours", analytics.last_24h, repeat=r, target_ms=section),
                await measure(
                    "by transaction type", analytics.by_type, repeat=r, target_ms=section
                ),
                await measure("level distribution", analytics.levels, repeat=r, target_ms=section),
                await measure("streaks", analytics.streaks, repeat=r, target_ms=section),
                await measure("top 5", analytics.top, repeat=r, target_ms=section),
                await measure(
                    "daily series (30 days)", analytics.daily_series, repeat=r, target_ms=section
                ),
                await measure(
                    "user card (median user)",
                    lambda: card(int(median_user)),
                    repeat=r,
                    target_ms=CARD_TARGET_MS,
                    note="balance + user + referrals + latest 5",
                ),
                await measure(
                    "user card (top earner)",
                    lambda: card(int(top_earner)),
                    repeat=r,
                    target_ms=CARD_TARGET_MS,
                ),
                await measure(
                    "top-10 leaderboard",
                    lambda: points.get_leaderboard(limit=10),
                    repeat=r,
                    target_ms=TOP10_TARGET_MS,
                ),
            ]

        indexes = await build_rank_indexes(engine, markers, with_redis)
        _log(f"rank: markers built in {indexes['markers_build_s']:.1f} s")
        median = (int(median_user), int(median_balance))
        spread_users = await board_sample(engine)

        async def time_ranks(label: str) -> list[RankTiming]:
            out = await rank_timings(
                sessions, markers, with_redis, median, runs=args.rank_runs, label=label
            )
            out.append(
                await spread(sessions, markers, spread_users, "200 users across the board, markers")
            )
            if with_redis is not None:
                out.append(
                    await spread(
                        sessions, with_redis, spread_users, "200 users across the board, Redis"
                    )
                )
            return out

        ranks_fresh = await time_ranks("median user's rank")
        fresh = await time_all()
        fresh.append(
            await measure(
                "chart PNG (render only)",
                lambda: asyncio.to_thread(
                    earned_vs_spent_png, series, title="t", earned_label="e", spent_label="s"
                ),
                repeat=r,
                target_ms=None,
                note="CPU in a thread, no database",
            )
        )

        # The live part above is minutes of rows. The worst case is the first call after
        # nobody looked for a day: it first adds a day of rows to the rollups.
        catch_up: list[float] = []
        for _ in range(3):
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM points_daily_totals"))
                lagging = analytics.watermark() - timedelta(hours=24)
                await analytics_queries.materialise(conn, timezone, None, lagging)
                await analytics_queries.save_state(conn, timezone, lagging)
            started = time.perf_counter()
            await analytics.by_type()
            catch_up.append((time.perf_counter() - started) * 1000)
        fresh.append(
            Timing(
                "by type after 24 h idle",
                statistics.median(catch_up),
                max(catch_up),
                SECTION_TARGET_MS,
                len(catch_up),
                "first call adds a day of rows to the rollups",
            )
        )
        started = time.perf_counter()
        await asyncio.gather(
            analytics.overview(),
            analytics.last_24h(),
            analytics.by_type(),
            analytics.levels(),
            analytics.streaks(),
            analytics.top(),
            analytics.daily_series(),
        )
        screen_ms = (time.perf_counter() - started) * 1000

        churned: list[Timing] = []
        ranks_churned: list[RankTiming] = []
        churn_s = 0.0
        if args.churn:
            _log(f"churn: {args.churn:,} earns over {len(active):,} recently active users")
            churn_s = await churn(points, [int(u) for u in active], args.churn)
            _log(f"churn: done in {churn_s:,.0f} s; timing again (no vacuum since)")
            churned = await time_all()
            # What the keeper does within a second in production: fold the new rows in.
            await (with_redis or markers).keep()
            ranks_churned = await time_ranks("median user's rank")
            # Between two rounds of the keeper: up to a second of rows not folded in yet.
            await churn(points, [int(u) for u in active], 3_000)
            ranks_churned += await rank_timings(
                sessions,
                markers,
                None,
                median,
                runs=args.rank_runs,
                label="median user's rank, 3,000 rows not folded in",
            )
            await _autocommit(url, "VACUUM (ANALYZE) points_balances")
        return {
            "rollup_build_s": build_s,
            "rolled_until": str(through),
            "rollup_rows": rolled,
            "whole_screen_ms": screen_ms,
            "churn_earns": args.churn,
            "churn_s": churn_s,
            "timings": fresh,
            "timings_after_churn": churned,
            "rank_indexes": indexes,
            "ranks": ranks_fresh,
            "ranks_after_churn": ranks_churned,
        }
    finally:
        await markers.aclose()
        if with_redis is not None and with_redis.redis is not None:
            await with_redis.redis.delete_keys()
            await with_redis.aclose()
        await engine.dispose()


async def build_rank_indexes(
    engine: AsyncEngine, markers: RankService, with_redis: RankService | None
) -> dict[str, Any]:
    """Both indexes from scratch, timed: what `./manage.sh rank rebuild` and a start do."""
    head = await rank_queries.settled_head(engine, timeout=30)
    assert head is not None
    started = time.perf_counter()
    count = await rank_queries.rebuild_markers(engine, head, RankConfig().spacing)
    out: dict[str, Any] = {"markers": count, "markers_build_s": time.perf_counter() - started}
    if with_redis is not None and with_redis.redis is not None:
        started = time.perf_counter()
        await with_redis.redis.rebuild(head, rank_queries.board(engine, head))
        out["redis_build_s"] = time.perf_counter() - started
        _log(f"rank: Redis set built in {out['redis_build_s']:.1f} s")
    return out


async def board_sample(engine: AsyncEngine) -> list[tuple[int, int]]:
    """About 200 users spread over the board, the top one and one without points included."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "(SELECT user_id, balance FROM points_balances TABLESAMPLE SYSTEM (0.5) "
                " REPEATABLE (7) LIMIT 198)"
                " UNION ALL (SELECT user_id, balance FROM points_balances "
                "  ORDER BY balance DESC, user_id LIMIT 1)"
                " UNION ALL (SELECT user_id, balance FROM points_balances WHERE balance = 0 LIMIT 1)"
            )
        )
        return [(int(u), int(b)) for u, b in rows]


def _table(timings: list[Timing]) -> list[str]:
    lines = [f"{'query':<28}{'median':>10}{'max':>10}{'target':>10}  verdict"]
    for t in timings:
        target = "-" if t.target_ms is None else f"{t.target_ms:,.0f} ms"
        verdict = "" if t.passed is None else "PASS" if t.passed else "MISS"
        note = f"  ({t.note})" if t.note else ""
        lines.append(
            f"{t.name:<28}{t.median_ms:>8.1f}ms{t.max_ms:>8.1f}ms{target:>10}  {verdict}{note}"
        )
    return lines


def _rank_table(timings: list[RankTiming]) -> list[str]:
    width = max(len(t.name) for t in timings)
    lines = [
        f"{'rank query':<{width}}  {'answered by':<13}{'median':>9}{'p95':>9}{'max':>9}  target"
    ]
    for t in timings:
        target = "-" if t.target_ms is None else f"p95 <= {t.target_ms:.0f} ms"
        verdict = "" if t.passed is None else "  PASS" if t.passed else "  MISS"
        lines.append(
            f"{t.name:<{width}}  {t.source:<13}{t.median_ms:>7.2f}ms{t.p95_ms:>7.2f}ms"
            f"{t.max_ms:>7.2f}ms  {target}{verdict}"
        )
    return lines


def render(where: str, counts: tuple[int, int], result: dict[str, Any], noise: float | None) -> str:
    lines = [
        f"database: {where}: ~{counts[0]:,} users, ~{counts[1]:,} ledger rows",
        f"rollups:  one-time build of {result['rollup_rows']:,} day x type rows up to "
        f"{result['rolled_until']}: {result['rollup_build_s']:,.1f} s",
        "",
        "freshly vacuumed (state tables all-visible):",
        *_table(result["timings"]),
        f"whole admin screen (all sections at once): {result['whole_screen_ms']:,.0f} ms",
        "",
        f"rank indexes built from scratch: {result['rank_indexes']['markers']:,} markers in "
        f"{result['rank_indexes']['markers_build_s']:.1f} s"
        + (
            f"; Redis sorted set in {result['rank_indexes']['redis_build_s']:.1f} s"
            if "redis_build_s" in result["rank_indexes"]
            else "; no Redis URL: the Redis path is not measured"
        ),
        *_rank_table(result["ranks"]),
    ]
    if result["timings_after_churn"]:
        lines += [
            "",
            f"after {result['churn_earns']:,} earns through the earn path "
            f"({result['churn_s']:,.0f} s), no vacuum since:",
            *_table(result["timings_after_churn"]),
            "then one round of the rank keeper (what it does every second):",
            *_rank_table(result["ranks_after_churn"]),
        ]
    if noise is not None:
        lines.append(f"noise: {noise:.2f} of {cpu_count()} cores busy before the run")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db = resolve_analytics_database(args.database_url)
    plan = plan_from(
        seed_args(
            [
                f"--users={args.users}",
                f"--transactions={args.transactions}",
                f"--days={args.days}",
            ]
        )
    )
    counts = asyncio.run(_count(db.url))
    if args.seed or counts[0] < 0.9 * args.users or counts[1] < 0.9 * args.transactions:
        _log(f"{db.where} holds ~{counts[0]:,} users, ~{counts[1]:,} rows: seeding")
        run_seed(db, plan)
        counts = asyncio.run(_count(db.url))
    else:
        migrate(db.url)  # a database seeded before a new migration gets it (indexes included)
    settings = server_settings(db)
    noise = background_cores()
    result = asyncio.run(run(db.url, args, plan.timezone))
    print(render(db.where, counts, result, noise))
    out = {
        "command": "python -m bench.analytics_bench "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database": db.where,
        "server": settings,
        "cpus": cpu_count(),
        "background_cores": noise,
        "users_estimate": counts[0],
        "transactions_estimate": counts[1],
        **{k: v for k, v in result.items() if not k.startswith(("timings", "ranks"))},
        **{
            key: [{**asdict(t), "passed": t.passed} for t in result[key]]
            for key in ("timings", "timings_after_churn", "ranks", "ranks_after_churn")
        },
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
    _log(f"results written to {args.json}")
    every = [*result["timings"], *result["timings_after_churn"]]
    every_rank = [*result["ranks"], *result["ranks_after_churn"]]
    passed = all(t.passed is not False for t in every) and all(
        t.passed is not False for t in every_rank
    )
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
