"""Several API worker processes on one port (API_WORKERS > 1), supervised by one parent.

One API process is CPU-bound on one core (docs/PERFORMANCE.md, API); workers use the others.
The parent is the process `./manage.sh` knows (run/api.pid, the ready file, logs/api.log):

- it migrates the database once, then forks the workers: each builds its own context (engine,
  pool, services) after the fork, so no connection or event loop is ever shared;
- every worker binds API_HOST:API_PORT with SO_REUSEPORT: the kernel spreads new connections
  evenly over the workers' sockets (a single shared socket lets whichever worker wakes first
  take a whole burst of connections, and keep-alive connections then stay uneven);
- it writes the ready file once every worker serves; a worker that dies is restarted (after a
  pause that grows while it keeps dying young); SIGTERM/SIGINT stops every worker gracefully
  (requests in flight finish, GRACEFUL_SHUTDOWN_SECONDS), then the parent exits 0;
- a worker started before the first "all ready" that exits means the API cannot run: the
  others are stopped and the parent exits 1 (the worker printed the reason on stderr);
- workers get SIGTERM if the parent dies, so a killed parent leaves nothing on the port.

Metrics: prometheus-client's multiprocess mode (a private directory set before any metric
exists), so /metrics on any worker reports the sum over all of them (src/metrics.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
import uvloop

from config.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger("api")

SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
YOUNG_SECONDS = 10.0  # a worker dying sooner than this is restarted after a growing pause
MAX_RESTART_PAUSE = 30.0
KILL_MARGIN_SECONDS = 5.0  # after the workers' graceful shutdown; ./manage.sh waits + 10 s
_PR_SET_PDEATHSIG = 1


@dataclass
class Worker:
    slot: int
    pid: int
    started: float
    ready: bool = False


class Supervisor:
    """Forks `count` workers running `target(slot, ready)` and keeps them running."""

    def __init__(
        self,
        count: int,
        target: Callable[[int, Callable[[], None]], None],
        *,
        grace_seconds: float,
        on_ready: Callable[[], None],
        on_exit: Callable[[int], None] = lambda pid: None,
    ) -> None:
        self._count = count
        self._target = target
        self._grace = grace_seconds
        self._on_ready = on_ready
        self._on_exit = on_exit
        self._workers: dict[int, Worker] = {}  # pid -> worker
        self._due: dict[int, float] = {}  # slot -> when to start it again
        self._young_deaths: dict[int, int] = {}  # slot -> deaths in a row soon after start
        self._all_ready = False
        self._stop_deadline: float | None = None
        self._failed = False
        self._ready_r, self._ready_w = os.pipe()
        os.set_blocking(self._ready_r, False)

    def run(self) -> int:
        """Supervise until stopped: 0 after a graceful stop, 1 if the workers cannot start."""
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            for slot in range(self._count):
                self._spawn(slot)
            while self._workers or self._stop_deadline is None:
                info = signal.sigtimedwait(SIGNALS, 0.2)
                if info is not None and info.si_signo != signal.SIGCHLD:
                    self._stop(f"signal {signal.Signals(info.si_signo).name}")
                self._read_ready()
                self._reap()
                self._restart_due()
                self._kill_late()
            return 1 if self._failed else 0
        finally:
            os.close(self._ready_r)
            os.close(self._ready_w)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)

    def pids(self) -> list[int]:
        return sorted(self._workers)

    def _spawn(self, slot: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the supervisor's loop
            code = 1
            try:
                os.close(self._ready_r)
                _die_with_parent(parent)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
                self._target(slot, lambda: self._report_ready(slot))
                code = 0
            except BaseException:  # reported, then the process ends
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self._workers[pid] = Worker(slot=slot, pid=pid, started=time.monotonic())
        log.info("api worker started", worker=slot, worker_pid=pid)

    def _report_ready(self, slot: int) -> None:
        """In a worker: tell the supervisor this slot serves."""
        os.write(self._ready_w, f"{slot}\n".encode())

    def _read_ready(self) -> None:
        try:
            data = os.read(self._ready_r, 4096)
        except BlockingIOError:
            return
        for slot in (int(line) for line in data.split()):
            for worker in self._workers.values():
                if worker.slot == slot:
                    worker.ready = True
        if not self._all_ready and self._stop_deadline is None and self._every_slot_ready():
            self._all_ready = True
            self._on_ready()

    def _every_slot_ready(self) -> bool:
        ready = {w.slot for w in self._workers.values() if w.ready}
        return len(ready) == self._count

    def _reap(self) -> None:
        while self._workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self._workers.pop(pid, None)
            if worker is not None:
                self._on_exit(pid)
                self._exited(worker, status)

    def _exited(self, worker: Worker, status: int) -> None:
        how = _describe(status)
        if self._stop_deadline is not None:
            log.info("api worker stopped", worker=worker.slot, worker_pid=worker.pid, exit=how)
            return
        if not self._all_ready:
            log.error("api worker could not start", worker=worker.slot, exit=how)
            self._failed = True
            self._stop("a worker could not start")
            return
        lived = time.monotonic() - worker.started
        deaths = self._young_deaths.get(worker.slot, 0) + 1 if lived < YOUNG_SECONDS else 0
        self._young_deaths[worker.slot] = deaths
        pause = min(2.0 ** (deaths - 1), MAX_RESTART_PAUSE) if deaths else 0.0
        log.warning(
            "api worker died, restarting",
            worker=worker.slot,
            worker_pid=worker.pid,
            exit=how,
            lived_seconds=round(lived, 1),
            restart_in_seconds=pause,
        )
        self._due[worker.slot] = time.monotonic() + pause

    def _restart_due(self) -> None:
        if self._stop_deadline is not None:
            return
        now = time.monotonic()
        for slot, due in list(self._due.items()):
            if due <= now:
                del self._due[slot]
                self._spawn(slot)

    def _stop(self, why: str) -> None:
        if self._stop_deadline is not None:
            return
        log.info("api stopping", reason=why, workers=len(self._workers))
        self._stop_deadline = time.monotonic() + self._grace + KILL_MARGIN_SECONDS
        self._due.clear()
        for pid in self._workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def _kill_late(self) -> None:
        if self._stop_deadline is None or time.monotonic() < self._stop_deadline:
            return
        for pid in self._workers:
            log.error("api worker did not stop in time, killing", worker_pid=pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._stop_deadline = time.monotonic() + 5.0


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def _die_with_parent(parent: int) -> None:
    """Linux: SIGTERM this worker when the supervisor dies (kill -9 included), so no orphan
    keeps serving the port. Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def use_multiprocess_metrics() -> str:
    """A fresh private directory for prometheus-client's multiprocess mode, set in the
    environment. Must run before prometheus_client is imported (it picks its value class
    then): run_workers checks that."""
    parent = tempfile.gettempdir()
    for stale in Path(parent).glob("syntra-api-metrics-*-*"):
        # Left by a supervisor that was killed (kill -9 has no cleanup): its pid is gone.
        pid = stale.name.split("-")[3]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists() and sys.platform == "linux":
            shutil.rmtree(stale, ignore_errors=True)
    path = tempfile.mkdtemp(prefix=f"syntra-api-metrics-{os.getpid()}-", dir=parent)
    os.environ[MULTIPROC_ENV] = path
    return path


def run_workers(
    settings: Settings, count: int, extend: Callable[[FastAPI], None] | None = None
) -> int:
    """Migrate once, then serve with `count` supervised workers. The exit code."""
    import asyncio

    from src.api.__main__ import GRACEFUL_SHUTDOWN_SECONDS, mark_ready, open_listener, serve

    metrics_dir = None if MULTIPROC_ENV in os.environ else use_multiprocess_metrics()
    if "prometheus_client" in sys.modules and metrics_dir is not None:
        raise RuntimeError("prometheus_client was imported before its multiprocess mode was set")
    try:
        open_listener(settings).close()  # the port is free (one clear line otherwise)
        asyncio.run(_prepare(settings))
        from prometheus_client import multiprocess

        import src.api.app  # noqa: F401 - imported once here, shared by the forked workers

        def target(slot: int, ready: Callable[[], None]) -> None:
            structlog.contextvars.bind_contextvars(worker=slot)
            uvloop.run(serve(settings, extend, worker=ready))

        def all_ready() -> None:
            log.info("api listening", host=settings.api_host, port=settings.api_port, workers=count)
            mark_ready()

        supervisor = Supervisor(
            count,
            target,
            grace_seconds=GRACEFUL_SHUTDOWN_SECONDS,
            on_ready=all_ready,
            on_exit=multiprocess.mark_process_dead,
        )
        import gc

        gc.collect()
        gc.freeze()  # the imported modules stay shared with the workers (copy-on-write)
        return supervisor.run()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


async def _prepare(settings: Settings) -> None:
    """Migrations and the levels table, once for all workers."""
    from src.bootstrap import build_context, prepare_database

    context = build_context(settings)
    try:
        await prepare_database(context)
    finally:
        await context.close()
