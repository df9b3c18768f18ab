"""API benchmark: `./manage.sh bench api` (python -m bench.api_bench).

GET /api/points/balance (init data checked, user known, one balance read, JSON) against a
bare FastAPI endpoint served by the same uvicorn process, in the same run, by the same load
generator: `wrk` (C, epoll) with a Lua script that gives every request a different user's
`Authorization: tma <initData>`. wrk keeps its own CPU small, so the server gets the cores;
a Python client would need about as much CPU per request as the server it measures.
Targets: balance p99 <= 25 ms at 32 connections; balance rate >= 0.3 x the bare rate.
Results also go to bench/out/api.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.api_server import BARE_PATH
from bench.bench_db import reset_schema, resolve_database, seed_users, server_settings
from bench.cpu import backend_cpu, background_cores, busy_cores, machine_jiffies, server_seconds
from src.api.init_data import sign_init_data

OUT_DIR = Path(__file__).resolve().parent / "out"
ROOT = Path(__file__).resolve().parent.parent
TOKEN = "777000:BENCH-TOKEN"
BALANCE_PATH = "/api/points/balance"
TARGET_P99_MS = 25.0
TARGET_RATIO = 0.3
LUA = """
local headers = {}
for line in io.lines(os.getenv("BENCH_AUTH_FILE")) do headers[#headers + 1] = line end
local i = math.random(#headers)
request = function()
  i = i % #headers + 1
  return wrk.format("GET", nil, {["Authorization"] = headers[i]})
end
"""


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.api_bench", description=__doc__)
    parser.add_argument("--duration", type=int, default=15, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=2, help="bare/balance pairs, alternated")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--users", type=int, default=2_000, help="distinct users in the load")
    parser.add_argument(
        "--workers", type=int, default=0, help="API_WORKERS of the server (0: its default)"
    )
    parser.add_argument("--database-url", help="default: the embedded server's syntra_bench")
    parser.add_argument("--json", type=Path, default=OUT_DIR / "api.json")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class WrkResult:
    endpoint: str
    requests: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # non-2xx responses plus socket errors
    server_cores: float | None  # the API process
    db_cores: float | None  # its PostgreSQL backends
    wrk_cores: float | None
    machine_cores: float | None


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def parse_wrk(out: str) -> dict[str, float]:
    found = {
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M)[1]),  # type: ignore[index]
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M)[1]),  # type: ignore[index]
        "max_ms": _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out)[1]),  # type: ignore[index]
    }
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    assert done, out
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0}[done[3]]
    found["requests"], found["seconds"] = int(done[1]), float(done[2]) * scale
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    found["errors"] = (int(non_2xx[1]) if non_2xx else 0) + (
        sum(int(g) for g in sockets.groups()) if sockets else 0
    )
    return found


def _proc_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(pid: int) -> list[int]:
    """The API's worker processes (children of the supervisor); [] for a single process."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _tree_seconds(pid: int) -> float:
    """CPU seconds of the API: the process and its workers (a worker that exited in between
    is lost with its time: none do during a run)."""
    total = _proc_seconds(pid)
    for child in worker_pids(pid):
        with contextlib.suppress(OSError):
            total += _proc_seconds(child)
    return total


def run_wrk(
    args: argparse.Namespace,
    url: str,
    endpoint: str,
    seconds: int,
    env: dict[str, str],
    server_pid: int,
    dbname: str,
) -> WrkResult:
    script = env["BENCH_LUA"] if endpoint == BALANCE_PATH else None
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency"]
    cmd += ["-s", script] if script else []
    server0, db0, machine0 = _tree_seconds(server_pid), backend_cpu(dbname), machine_jiffies()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(
        [*cmd, url + endpoint],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    elapsed = time.monotonic() - started
    server1, db1, machine1 = _tree_seconds(server_pid), backend_cpu(dbname), machine_jiffies()
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = proc.stdout
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed:\n{out}\n{proc.stderr}")
    wrk_cpu = (children1.ru_utime - children0.ru_utime) + (children1.ru_stime - children0.ru_stime)
    parsed = parse_wrk(out)
    db_seconds = server_seconds(db0, db1)
    return WrkResult(
        endpoint=endpoint,
        requests=int(parsed["requests"]),
        seconds=parsed["seconds"],
        rate=parsed["requests"] / parsed["seconds"],
        p50_ms=parsed["p50_ms"],
        p99_ms=parsed["p99_ms"],
        max_ms=parsed["max_ms"],
        errors=int(parsed["errors"]),
        server_cores=(server1 - server0) / elapsed,
        db_cores=db_seconds / elapsed if db_seconds is not None else None,
        wrk_cores=wrk_cpu / elapsed,
        machine_cores=busy_cores(machine0, machine1),
    )


def start_server(db_url: str, port: int, workdir: Path, workers: int) -> subprocess.Popen[bytes]:
    """The API as production runs it (JSON log file, API_WORKERS), plus the bare endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "LOG_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        DATABASE_URL=db_url,
        API_HOST="127.0.0.1",
        API_PORT=str(port),
        API_WORKERS=str(workers),
        LOG_DIR=str(workdir),
        LOG_FORMAT="json",
        SYNTRA_READY_FILE=str(workdir / "ready"),
    )
    out = (workdir / "api.out").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.api_server"], cwd=ROOT, env=env, stdout=out, stderr=out
    )
    deadline = time.monotonic() + 120
    while not (workdir / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the API did not start: {workdir / 'api.out'}")
        time.sleep(0.1)
    return proc


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def auth_file(users: int, path: Path) -> None:
    """One `tma <initData>` per seeded user (ids 1..users), signed now: valid for 24 h."""
    now = datetime.now(UTC)
    lines = (
        "tma " + sign_init_data(TOKEN, user_id=uid, auth_date=now, first_name=f"Bench {uid}")
        for uid in range(1, users + 1)
    )
    path.write_text("\n".join(lines) + "\n")


async def touch_every_user(url: str, auth: Path, passes: int = 1) -> None:
    """Balance requests for every user, `passes` times on fresh connections: each API worker
    caches the users it has served (a read, or the registration's write, on first sight),
    and the kernel picks the worker per connection, so a few passes reach every worker;
    the measured runs see the steady state."""
    for _ in range(passes):
        await _touch_once(url, auth)


async def _touch_once(url: str, auth: Path) -> None:
    headers = await asyncio.to_thread(lambda: auth.read_text().splitlines())
    queue: asyncio.Queue[str] = asyncio.Queue()
    for header in headers:
        queue.put_nowait(header)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            header = queue.get_nowait()
            try:
                response = await client.get(BALANCE_PATH, headers={"Authorization": header})
            except httpx.RemoteProtocolError:  # a kept-alive connection closed as it was reused
                response = await client.get(BALANCE_PATH, headers={"Authorization": header})
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(16)))


def render(bare: list[WrkResult], balance: list[WrkResult], ratio: float, p99: float) -> str:
    def cores(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    lines = [
        "| run | endpoint | req/s | p50 ms | p99 ms | max ms | errors | API cores "
        "| PG cores | wrk cores | machine cores |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for number, (b, a) in enumerate(zip(bare, balance, strict=True), 1):
        for r in (b, a):
            lines.append(
                f"| {number} | {r.endpoint} | {r.rate:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
                f"| {r.max_ms:.1f} | {r.errors} | {cores(r.server_cores)} | {cores(r.db_cores)} "
                f"| {cores(r.wrk_cores)} | {cores(r.machine_cores)} |"
            )
    verdict_ratio = "PASS" if ratio >= TARGET_RATIO else "MISS"
    verdict_p99 = "PASS" if p99 <= TARGET_P99_MS else "MISS"
    lines += [
        "",
        f"balance / bare throughput: {ratio:.2f} (target >= {TARGET_RATIO}) {verdict_ratio}",
        f"balance p99 (worst run): {p99:.1f} ms (target <= {TARGET_P99_MS:.0f} ms) {verdict_p99}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    db = resolve_database(args.database_url)
    _log(f"database: {db.where}; resetting and seeding {args.users:,} users")
    reset_schema(db)
    seed_users(db, args.users)
    quiet = background_cores()
    workdir = Path(tempfile.mkdtemp(prefix="syntra-api-bench-"))
    auth_file(args.users, workdir / "auth.txt")
    (workdir / "balance.lua").write_text(LUA)
    env = {**os.environ, "BENCH_AUTH_FILE": str(workdir / "auth.txt")}
    env["BENCH_LUA"] = str(workdir / "balance.lua")
    port = free_port()
    server = start_server(db.url, port, workdir, args.workers)
    workers = max(1, len(worker_pids(server.pid)))
    _log(f"API: {workers} process(es)")
    url = f"http://127.0.0.1:{port}"
    try:
        _log("warm-up: every user once (registration refresh, user cache), then both loads")
        asyncio.run(touch_every_user(url, workdir / "auth.txt", passes=1 + 3 * (workers > 1)))
        for endpoint in (BARE_PATH, BALANCE_PATH):
            run_wrk(args, url, endpoint, args.warmup, env, server.pid, db.dbname)
        bare, balance = [], []
        for number in range(1, args.rounds + 1):
            _log(f"round {number}/{args.rounds}: bare, then balance, {args.duration} s each")
            bare.append(run_wrk(args, url, BARE_PATH, args.duration, env, server.pid, db.dbname))
            balance.append(
                run_wrk(args, url, BALANCE_PATH, args.duration, env, server.pid, db.dbname)
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    ratio = sum(r.requests for r in balance) / sum(r.requests for r in bare)
    p99 = max(r.p99_ms for r in balance)
    print(render(bare, balance, ratio, p99))
    print(f"\nAPI worker processes: {workers}")
    print(f"\nmachine busy before the run: {quiet if quiet is None else f'{quiet:.2f}'} cores")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "where": db.where,
        "settings": server_settings(db),
        "background_cores": quiet,
        "api_workers": workers,
        "args": {k: str(v) for k, v in vars(args).items()},
        "bare": [asdict(r) for r in bare],
        "balance": [asdict(r) for r in balance],
        "ratio": ratio,
        "balance_p99_ms": p99,
    }
    args.json.write_text(json.dumps(result, indent=2))
    errors = sum(r.errors for r in balance + bare)
    if errors:
        print(f"\n{errors} requests failed: see {workdir / 'api.log'}", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
