"""Several API workers (API_WORKERS=2) as a real process tree: `python -m src.api` forks two
workers that share the port; a killed worker is replaced while the other keeps answering;
SIGTERM lets requests in flight finish; /metrics sums every worker; with REDIS_URL the rate
limit is one allowance across workers.

Every request here goes on a fresh connection (the kernel picks a worker per connection).
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from src.api.init_data import sign_init_data
from tests.support.api_server import ApiProcess, api_process

pytestmark = pytest.mark.slow

TOKEN = "515151:WORKERS-TEST"
REDIS_URL = os.environ.get("TEST_REDIS_URL")


def worker_pids(api: ApiProcess) -> list[int]:
    pid = api.proc.pid
    try:
        return sorted(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return []


def has_served(worker: int) -> bool:
    """A worker's file in the API's private multiprocess metrics directory exists once it
    has counted a request."""
    found = Path(tempfile.gettempdir()).glob(f"syntra-api-metrics-*/counter_{worker}.db")
    return any(found)


def until(check: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def get(url: str, path: str, **headers: str) -> httpx.Response:
    return httpx.get(url + path, headers=headers, timeout=30)  # a new connection each time


def health_count(url: str) -> float:
    for line in get(url, "/metrics").text.splitlines():
        if line.startswith("syntra_http_requests_total{") and 'route="/api/health"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


@pytest.fixture
def two_workers(tmp_path: Path, database_url: str) -> Iterator[ApiProcess]:
    with api_process(
        tmp_path,
        database_url=database_url,
        token=TOKEN,
        module="tests.support.api_slow_server",
        API_WORKERS="2",
    ) as api:
        until(lambda: len(worker_pids(api)) == 2, what="two workers")
        yield api


def test_workers_share_the_port_and_metrics_add_up(two_workers: ApiProcess) -> None:
    api = two_workers
    workers = worker_pids(api)
    sent = 0
    while not all(has_served(w) for w in workers):
        assert get(api.url, "/api/health").status_code == 200
        sent += 1
        assert sent < 200, "the kernel gave every connection to one worker"
    # Whichever worker answers the scrape reports the sum over both.
    assert health_count(api.url) == sent
    assert health_count(api.url) == sent


def test_a_killed_worker_is_restarted_and_the_other_keeps_answering(
    two_workers: ApiProcess,
) -> None:
    api = two_workers
    victim, survivor = worker_pids(api)
    os.kill(victim, signal.SIGKILL)
    until(lambda: victim not in worker_pids(api), timeout=10, what="the supervisor to reap it")
    # At once, before the replacement serves: every request is answered (by the survivor).
    for _ in range(30):
        assert get(api.url, "/api/health").status_code == 200
    until(lambda: len(worker_pids(api)) == 2, what="a replacement worker")
    replacement = next(p for p in worker_pids(api) if p != survivor)
    sent = 0
    while not has_served(replacement):
        response = get(api.url, "/api/health")
        assert response.status_code == 200
        sent += 1
        assert sent < 400, "the replacement worker never served"
    log = (api.workdir / "api.log").read_text()
    assert "api worker died, restarting" in log and "SIGKILL" in log


def test_sigterm_lets_requests_in_flight_finish(two_workers: ApiProcess) -> None:
    api = two_workers
    with ThreadPoolExecutor(8) as pool:
        slow = [pool.submit(get, api.url, "/test/slow?seconds=3") for _ in range(8)]
        log = api.workdir / "api.log"
        until(lambda: log.read_text().count("slow request started") == 8, what="8 in flight")
        api.proc.send_signal(signal.SIGTERM)
        answers = [future.result(timeout=30) for future in slow]
    assert [a.status_code for a in answers] == [200] * 8
    assert len({a.json()["pid"] for a in answers}) == 2, "both workers had requests in flight"
    assert api.proc.wait(30) == 0
    with pytest.raises(httpx.ConnectError):
        get(api.url, "/api/health")
    log = (api.workdir / "api.log").read_text()
    assert log.count("api worker stopped") == 2 and "api stopping" in log


def test_a_killed_supervisor_takes_its_workers_along(two_workers: ApiProcess) -> None:
    api = two_workers
    workers = worker_pids(api)
    api.proc.kill()
    api.proc.wait(10)
    until(lambda: not any(alive(w) for w in workers), timeout=30, what="the workers to stop")


@pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL to test the Redis rate limit")
def test_the_redis_rate_limit_is_one_allowance_across_workers(
    tmp_path: Path, database_url: str
) -> None:
    assert REDIS_URL is not None
    with api_process(
        tmp_path,
        database_url=database_url,
        token=TOKEN,
        API_WORKERS="2",
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=f"syntra-test-{uuid.uuid4().hex[:8]}:",
        API_RATE_LIMIT_BURST="5",
        API_RATE_LIMIT_PER_MINUTE="1",
    ) as api:
        until(lambda: len(worker_pids(api)) == 2, what="two workers")
        workers = worker_pids(api)
        init_data = sign_init_data(TOKEN, user_id=626_000_001, auth_date=datetime.now(UTC))
        statuses = []
        while not all(has_served(w) for w in workers) or len(statuses) < 12:
            response = get(api.url, "/api/points/balance", Authorization=f"tma {init_data}")
            statuses.append(response.status_code)
            assert len(statuses) < 200, "the kernel gave every connection to one worker"
        # In-process buckets would allow up to 5 per worker; Redis allows 5 in all.
        assert statuses[:5] == [200] * 5
        assert set(statuses[5:]) == {429}
