"""The benchmark's database: where it is, how pgbench reaches it, and how it is prepared.

By default the embedded server's dedicated `syntra_bench` database (never the app's own data);
with --database-url or BENCH_DATABASE_URL, that server. Whatever the database holds is replaced:
the schema is dropped and migrated to head before every run.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from bench.cpu import Cpu, backend_cpu, busy_cores, machine_jiffies, server_seconds
from config.points_config import PointsRules, RequestAction
from config.settings import get_settings
from src.database.engine import APP_DATABASE, normalise_url

BENCH_DATABASE = "syntra_bench"
BENCH_URL_ENV = "BENCH_DATABASE_URL"
ACTION = RequestAction.TEXT  # the action both earn loads use
MAX_CONNECTIONS = 300  # the embedded server's limit the benchmarks need
SETTINGS_SHOWN = (
    "server_version",
    "synchronous_commit",
    "fsync",
    "shared_buffers",
    "max_connections",
)


@dataclass(frozen=True)
class BenchDatabase:
    url: str  # postgresql+asyncpg://..., for the service
    pgbench: str  # the pgbench binary matching the server where we can
    conn_args: list[str]  # -h/-p/-U for libpq tools
    dbname: str
    env: dict[str, str] = field(default_factory=dict)  # PGPASSWORD for an external server
    where: str = ""

    def tool(self, *args: str) -> list[str]:
        return [self.pgbench, *args, *self.conn_args, self.dbname]


def resolve_database(given: str | None) -> BenchDatabase:
    url = given or os.environ.get(BENCH_URL_ENV)
    if url:
        db = _external(normalise_url(url))
        app_url = get_settings().database_url
        if db.dbname == APP_DATABASE or (app_url and normalise_url(app_url) == db.url):
            # The run drops the schema: never let it near the application's own data.
            raise SystemExit(f"refusing to benchmark {db.where}: use a dedicated database")
        return db
    from src.database.embedded import ensure_database, ensure_running

    server = ensure_running(get_settings().data_dir)
    ensure_database(server, BENCH_DATABASE)
    _allow_connections(server.url(BENCH_DATABASE), MAX_CONNECTIONS)
    return BenchDatabase(
        url=server.url(BENCH_DATABASE),
        pgbench=str(server.bin_dir / "pgbench"),
        conn_args=["-h", str(server.socket_dir), "-p", str(server.port), "-U", "postgres"],
        dbname=BENCH_DATABASE,
        where=f"embedded server, database {BENCH_DATABASE}",
    )


def _allow_connections(url: str, wanted: int) -> None:
    """The wide runs open well over 100 connections (pgbench, or one per client without group
    commit): raise the embedded server's limit once, which takes a restart."""

    async def read() -> int:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return int(await conn.scalar(text("SHOW max_connections")) or 0)
        finally:
            await engine.dispose()

    if asyncio.run(read()) >= wanted:
        return
    from src.database.embedded import restart

    print(f"bench: raising the embedded server's max_connections to {wanted} (restart)")
    asyncio.run(_autocommit(url, [f"ALTER SYSTEM SET max_connections = {wanted}"]))
    restart(get_settings().data_dir)


def _external(url: str) -> BenchDatabase:
    parsed = make_url(url)
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise SystemExit("pgbench is not on PATH: install the PostgreSQL client tools")
    host = parsed.host or parsed.query.get("host")
    args: list[str] = []
    if isinstance(host, str):
        args += ["-h", host]
    port = parsed.port or parsed.query.get("port")
    if isinstance(port, int | str):
        args += ["-p", str(port)]
    if parsed.username:
        args += ["-U", parsed.username]
    env = {"PGPASSWORD": parsed.password} if isinstance(parsed.password, str) else {}
    if not parsed.database:
        raise SystemExit("the benchmark database URL must name a database")
    return BenchDatabase(
        url=url,
        pgbench=pgbench,
        conn_args=args,
        dbname=parsed.database,
        env=env,
        where=f"{parsed.host or host or 'local socket'}, database {parsed.database}",
    )


def reset_schema(db: BenchDatabase) -> None:
    # The test suite's helper: drop the public schema, migrate to head.
    from tests.support.database import reset_schema as reset

    reset(db.url)


async def _autocommit(url: str, statements: list[str], *, optional: bool = False) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                try:
                    await conn.execute(text(statement))
                except DBAPIError:
                    if not optional:  # e.g. CHECKPOINT needs a privilege an external role may lack
                        raise
    finally:
        await engine.dispose()


def checkpoint(db: BenchDatabase) -> None:
    """Start each measured phase from a clean checkpoint, so neither pays for the other's writes."""
    asyncio.run(_autocommit(db.url, ["CHECKPOINT"], optional=True))


def seed_users(db: BenchDatabase, users: int) -> None:
    """`users` users with balance rows, set-based: ids 1..users (the hot user is users + 1)."""
    asyncio.run(
        _autocommit(
            db.url,
            [
                "INSERT INTO users (telegram_id, referral_code, first_name) "
                f"SELECT g, 'bench' || g, 'Bench ' || g FROM generate_series(1, {users + 1}) g",
                "INSERT INTO points_balances (user_id) "
                f"SELECT g FROM generate_series(1, {users + 1}) g",
                "VACUUM (ANALYZE) users",
                "VACUUM (ANALYZE) points_balances",
                "VACUUM (ANALYZE) points_transactions",
            ],
        )
    )


def server_settings(db: BenchDatabase) -> dict[str, str]:
    async def read() -> dict[str, str]:
        engine = create_async_engine(db.url)
        try:
            async with engine.connect() as conn:
                return {
                    name: str(await conn.scalar(text(f"SHOW {name}"))) for name in SETTINGS_SHOWN
                }
        finally:
            await engine.dispose()

    return asyncio.run(read())


# ------------------------------------------------------------------ pgbench baseline


@dataclass(frozen=True)
class PgbenchResult:
    tps: float
    latency_ms: float | None
    failed: int
    command: str
    cpu: Cpu


def _run(db: BenchDatabase, args: list[str], *, timeout: float) -> str:
    cmd = db.tool(*args)
    result = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **db.env},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stderr.strip()}")
    return result.stdout + result.stderr


def _measured_run(db: BenchDatabase, args: list[str], duration: int) -> tuple[str, Cpu]:
    """Run pgbench for `duration` s, sampling CPU inside the run (its backends exit with it)."""
    cmd = db.tool(*args)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **db.env},
    )
    margin = 1.0 if duration >= 4 else 0.0
    window = duration - 2 * margin
    time.sleep(margin)
    machine, server = machine_jiffies(), backend_cpu(db.dbname)
    time.sleep(window)
    machine_after, server_after = machine_jiffies(), backend_cpu(db.dbname)
    stdout, stderr = proc.communicate(timeout=duration + 120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{stderr.strip()}")
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = used.ru_utime + used.ru_stime - children.ru_utime - children.ru_stime
    server_s = server_seconds(server, server_after) if margin else None
    cpu = Cpu(
        client_cores=client / duration,
        server_cores=None if server_s is None else server_s / window,
        machine_cores=busy_cores(machine, machine_after),
    )
    return stdout + stderr, cpu


def _parse(out: str) -> tuple[float, float | None, int]:
    tps = re.search(r"^tps = ([\d.]+)", out, re.MULTILINE)
    if tps is None:
        raise RuntimeError(f"cannot read tps from pgbench output:\n{out}")
    latency = re.search(r"^latency average = ([\d.]+) ms", out, re.MULTILINE)
    failed = re.search(r"^number of failed transactions: (\d+)", out, re.MULTILINE)
    return (
        float(tps.group(1)),
        float(latency.group(1)) if latency else None,
        int(failed.group(1)) if failed else 0,
    )


def pgbench_baseline(
    db: BenchDatabase, *, scale: int, clients: int, threads: int, duration: int
) -> PgbenchResult:
    """Built-in simple-update (-N) with prepared statements, in the same database; tables dropped after."""
    _run(db, ["-i", "-q", "-s", str(scale)], timeout=600)
    try:
        checkpoint(db)
        args = ["-N", "-M", "prepared", "-c", str(clients), "-j", str(threads)]
        args += ["-T", str(duration), "-n"]
        out, cpu = _measured_run(db, args, duration)
    finally:
        _run(db, ["-i", "-I", "d"], timeout=120)
    tps, latency, failed = _parse(out)
    return PgbenchResult(tps, latency, failed, "pgbench " + " ".join(args), cpu)


def _array(values: list[str], sql_type: str) -> str:
    return "'{" + ",".join(values) + "}'::" + sql_type


def earn_script(rules: PointsRules, *, users: int, replay_ratio: float, timezone: str) -> str:
    """A pgbench script doing what the earn load does, with the service's parameters.

    Per client, `n` counts the keys used so far; a replay reuses one of them. The user is a hash
    of (client, key number), so a replayed key goes to the user it was first used for.
    """
    rule = rules.requests[ACTION]
    tiers = _array([t.value for t in rules.tier_multipliers], "text[]")
    tier_mults = _array([str(m) for m in rules.tier_multipliers.values()], "numeric[]")
    thresholds = _array([str(lvl.points_required) for lvl in rules.levels], "bigint[]")
    level_mults = _array([str(lvl.earning_multiplier) for lvl in rules.levels], "numeric[]")
    replay_per_10k = round(replay_ratio * 10_000)
    return f"""\\set r random(1, 10000)
\\if :r <= {replay_per_10k} AND :n > 0
\\set k random(1, :n)
\\else
\\set n :n + 1
\\set k :n
\\endif
\\set uid 1 + abs(hash(:client_id * 1000000000 + :k)) % {users}
SELECT outcome FROM points_earn_request(:uid, '{ACTION.value}', 'pgbench-' || :client_id || '-' || :k, \
{rule.base_points}, interval '{rule.min_interval_seconds} seconds', {rules.max_daily_points_earning}, \
{tiers}, {tier_mults}, {thresholds}, {level_mults}, '{timezone}', '{{}}'::jsonb, NULL);
"""


def pgbench_earn(
    db: BenchDatabase,
    script: str,
    *,
    clients: int,
    threads: int,
    duration: int,
) -> PgbenchResult:
    """The earn function driven by pgbench instead of Python: what the database alone can do."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "earn_request.sql"
        path.write_text(script, encoding="utf-8")
        args = ["-f", str(path), "-D", "n=0", "-M", "prepared"]
        args += ["-c", str(clients), "-j", str(threads), "-T", str(duration), "-n"]
        out, cpu = _measured_run(db, args, duration)
    tps, latency, failed = _parse(out)
    shown = " ".join(args).replace(str(path), path.name)
    return PgbenchResult(tps, latency, failed, "pgbench " + shown, cpu)
