"""Start the API process: `python -m src.api` (or ./manage.sh start api).

uvicorn serves `create_api(build_context(settings))` on API_HOST:API_PORT: in this process
with API_WORKERS=1, else in API_WORKERS forked workers supervised by this one
(src/api/workers.py, docs/API.md "Workers"). Logs go to logs/api.log as JSON lines, like
the bot's. `--check` only validates the settings.

Each serving process runs on uvloop (libuv's event loop) and uvicorn parses HTTP with
httptools (its choice when installed): about 40 % less CPU per request than asyncio's loop
and h11, which decides the API's latency on a busy machine (docs/PERFORMANCE.md, API).
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import uvloop

from config.points_config import PointsConfigError, load_points_rules
from config.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from uvicorn import Config

# The collector's thresholds while serving (Python's defaults: 700, 10, 10). With the
# defaults a full collection ran about twice a second under load and took 10-25 ms each
# time, every request in flight waiting: most of the balance p99. Request garbage is freed
# by reference counting; the collector only has cycles to find, so it can run far less often
# (docs/PERFORMANCE.md, API).
GC_THRESHOLDS = (5_000, 20, 100)

# ./manage.sh start names a file here and waits for it: touched once the port is bound.
READY_FILE_ENV = "SYNTRA_READY_FILE"

NO_TOKEN = (
    "BOT_TOKEN is not set: the API checks Mini App logins with the bot's token; put the token "
    "from @BotFather into .env (see README.md)"
)


def preflight() -> Settings | None:
    try:
        settings = get_settings()
        load_points_rules(settings.points_config_file)
    except (SettingsError, PointsConfigError) as exc:
        print(f"api: {exc}", file=sys.stderr)
        return None
    if settings.bot_token is None:
        print(f"api: {NO_TOKEN}", file=sys.stderr)
        return None
    return settings


GRACEFUL_SHUTDOWN_SECONDS = 20  # requests in flight may finish; ./manage.sh stop waits + 10 s


def mark_ready() -> None:
    if path := os.environ.get(READY_FILE_ENV):
        Path(path).write_text(f"shutdown_grace_seconds={GRACEFUL_SHUTDOWN_SECONDS}\n")


def open_listener(settings: Settings, *, reuse_port: bool = False) -> socket.socket:
    """API_HOST:API_PORT bound here, not by uvicorn (which exits on a taken port): the failure
    is ours to word. `reuse_port`: a worker's own socket in the SO_REUSEPORT group."""
    family = socket.AF_INET6 if ":" in settings.api_host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on sockets that say TCP, and
    # without it a response written in two parts (headers, body) waits for the client's
    # delayed ACK (40 ms).
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((settings.api_host, settings.api_port))
    except OSError:
        listener.close()
        raise
    return listener


def _serving(settings: Settings, config: Config, worker: Callable[[], None] | None) -> None:
    """Say what serves the requests (uvloop, httptools, the collector's thresholds), and
    report ready: the ready file for ./manage.sh, or `worker()` to the supervisor."""
    import structlog

    log = structlog.get_logger("api")
    runtime = {
        "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        "http": config.http_protocol_class.__name__,
        "gc_thresholds": list(gc.get_threshold()),
    }
    if worker is None:
        log.info("api listening", host=settings.api_host, port=settings.api_port, **runtime)
        mark_ready()
    else:
        log.info("api worker serving", **runtime)
        worker()


async def serve(
    settings: Settings,
    extend: Callable[[FastAPI], None] | None = None,
    *,
    worker: Callable[[], None] | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT. `extend` adds routes to the app (the benchmark's baseline).

    `worker`: this process is one of several (src/api/workers.py): the database is already
    migrated, the port is shared (SO_REUSEPORT), and `worker()` reports it ready.
    """
    import uvicorn

    class ReadyServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # Everything built so far lives as long as the process: take it out of the
            # garbage collector's reach, so full collections scan only request garbage
            # (they otherwise stall every request in flight for tens of milliseconds).
            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
            if self.started:  # bound and serving (a taken port ends the process instead)
                _serving(settings, self.config, worker)

    from src.api.app import create_api
    from src.bootstrap import build_context, prepare_database

    context = build_context(settings)
    try:
        if worker is None:
            await prepare_database(context)
        # Every process that serves ranks keeps the index in step (one worker acts per round).
        context.ranks.start()
        app = create_api(context)
        if extend is not None:
            extend(app)
        config = uvicorn.Config(
            app,
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,  # uvicorn's loggers go through ours (JSON to api.log)
            access_log=False,  # requests are counted and timed in /metrics instead
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        server = ReadyServer(config)
        listener = open_listener(settings, reuse_port=worker is not None)
        # uvicorn stops gracefully on SIGTERM/SIGINT, then raises the signal again for the
        # handler it found installed: make that a no-op so we close the context and exit 0.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: None)
        await server.serve(sockets=[listener])
    finally:
        await context.close()


def run_api(settings: Settings, extend: Callable[[FastAPI], None] | None = None) -> int:
    """Serve with settings.api_worker_count processes: one serves in this process; more are
    forked and supervised from here (src/api/workers.py). The exit code."""
    workers = settings.api_worker_count
    if workers == 1:
        uvloop.run(serve(settings, extend))
        return 0
    from src.api.workers import run_workers

    return run_workers(settings, workers, extend)


def start_failure(exc: Exception, settings: Settings) -> str | None:
    """Why the API cannot run, in one line (None for a bug): the port taken, the database."""
    import errno

    from src.operator_errors import describe_failure

    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        listen = f"{settings.api_host}:{settings.api_port}"
        return f"cannot listen on {listen} (API_HOST/API_PORT): address already in use"
    return describe_failure(exc, database_url=settings.database_url)


def main(argv: list[str]) -> int:
    settings = preflight()
    if settings is None:
        return 2
    if "--check" in argv:
        return 0
    import structlog

    from src.logging_config import PRINTED, configure_logging, secret_values

    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format,
        log_file=settings.log_dir / "api.log",
        secrets=secret_values(settings),
    )
    log = structlog.get_logger("api")
    try:
        code = run_api(settings)
    except Exception as exc:
        reason = start_failure(exc, settings)
        if reason is None:
            log.exception("api failed")
            raise
        # One line for the operator (stderr: ./manage.sh start shows it); the log keeps it too.
        log.error("api cannot run", reason=reason, **{PRINTED: True})
        print(f"api: {reason}", file=sys.stderr)
        return 1
    log.info("api stopped")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
