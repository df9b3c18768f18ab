"""The event loop's last resort: whatever reaches its exception handler is logged and counted.

asyncio hands its exception handler what no code caught: a task that failed and was never
awaited ("Task exception was never retrieved"), a failing callback, an unclosed session. By
default that is printed to stderr, outside the JSON log and invisible to the failure counts;
here it becomes one structured error line (event "unhandled exception in the event loop") and
one count under `event_loop`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from src.services.failures import FailureCounter

log = structlog.get_logger(__name__)


def install_loop_guard(
    failures: FailureCounter, loop: asyncio.AbstractEventLoop | None = None
) -> None:
    loop = loop or asyncio.get_running_loop()

    def handle(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        total = failures.inc("event_loop")
        exception = context.get("exception")
        where = context.get("task") or context.get("future") or context.get("handle")
        log.error(
            "unhandled exception in the event loop",
            message=context.get("message"),
            where=repr(where) if where is not None else None,
            error=repr(exception) if exception is not None else None,
            failures_total=total,
            exc_info=exception if isinstance(exception, BaseException) else None,
        )

    loop.set_exception_handler(handle)
