"""Nothing the event loop catches goes unlogged or uncounted (src/bot/loop_guard.py)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import pytest
import structlog

from src.bot.loop_guard import install_loop_guard
from src.services.failures import FailureCounter


@pytest.fixture
async def failures() -> AsyncIterator[FailureCounter]:
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    counter = FailureCounter()
    install_loop_guard(counter)
    yield counter
    loop.set_exception_handler(previous)


async def test_a_task_exception_never_retrieved_is_logged_and_counted(
    failures: FailureCounter,
) -> None:
    async def fail() -> None:
        raise ValueError("lost in the background")

    with structlog.testing.capture_logs() as logs:
        task = asyncio.get_running_loop().create_task(fail())
        await asyncio.sleep(0.01)
        assert task.done()
        del task
        gc.collect()  # the task's destructor reports the exception nobody retrieved

    (record,) = [r for r in logs if r["event"] == "unhandled exception in the event loop"]
    assert record["log_level"] == "error"
    assert record["message"] == "Task exception was never retrieved"
    assert "lost in the background" in record["error"]
    assert failures.get("event_loop") == 1


async def test_a_failing_callback_is_logged_and_counted(failures: FailureCounter) -> None:
    def boom() -> None:
        raise RuntimeError("callback failed")

    with structlog.testing.capture_logs() as logs:
        asyncio.get_running_loop().call_soon(boom)
        await asyncio.sleep(0.01)

    (record,) = [r for r in logs if r["event"] == "unhandled exception in the event loop"]
    assert "callback failed" in record["error"] and record["where"]
    assert failures.get("event_loop") == 1
