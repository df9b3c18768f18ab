"""The API as a real process (`python -m src.api`, uvicorn) on a free port, for the tests that
need a real HTTP server: schemathesis over the OpenAPI schema and the browser test."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from config.settings import PROJECT_ROOT
from tests.support.processes import PYTHON, bot_env, free_port

START_TIMEOUT = 90.0  # migrations and imports on a loaded machine


@contextlib.contextmanager
def api_server(workdir: Path, *, database_url: str, token: str, **settings: str) -> Iterator[str]:
    """Run the API until the block ends; yields its base URL (http://127.0.0.1:PORT)."""
    with api_process(workdir, database_url=database_url, token=token, **settings) as api:
        yield api.url


@dataclass
class ApiProcess:
    url: str
    proc: subprocess.Popen[bytes]
    workdir: Path


@contextlib.contextmanager
def api_process(
    workdir: Path,
    *,
    database_url: str,
    token: str,
    module: str = "src.api",
    **settings: str,
) -> Iterator[ApiProcess]:
    """`python -m <module>` (the API, or a test server built the same way) until the block
    ends; stopped with SIGTERM, killed after 30 s."""
    port = free_port()
    ready = workdir / "api.ready"
    env = bot_env(
        BOT_TOKEN=token,
        DATABASE_URL=database_url,
        API_HOST="127.0.0.1",
        API_PORT=str(port),
        LOG_DIR=workdir,
        LOG_FORMAT="json",
        **settings,
    )
    env["SYNTRA_READY_FILE"] = str(ready)
    with (workdir / "api.out").open("wb") as out:
        proc = subprocess.Popen(
            [PYTHON, "-m", module],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not ready.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = (workdir / "api.out").read_text(errors="replace")[-3000:]
                    raise AssertionError(f"the API did not start\n{output}")
                time.sleep(0.05)
            yield ApiProcess(f"http://127.0.0.1:{port}", proc, workdir)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
