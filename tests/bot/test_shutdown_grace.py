"""On SIGTERM the dispatcher waits for updates in flight at least as long as an AI answer may
take (LLM_TIMEOUT_SECONDS), plus time to send it and write its award.

The process-level twin (a real SIGTERM mid-answer, through ./manage.sh stop) is in
tests/e2e/test_faults.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from config.settings import SHUTDOWN_MARGIN_SECONDS
from src.bot.dispatcher import create_dispatcher
from tests.conftest import ContextFactory


@pytest.mark.parametrize("llm_timeout", [1, 60, 600])
async def test_the_drain_covers_the_llm_timeout(
    make_context: ContextFactory, llm_timeout: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = make_context(LLM_TIMEOUT_SECONDS=str(llm_timeout))
    settings = context.settings
    assert settings.shutdown_grace_seconds == llm_timeout + SHUTDOWN_MARGIN_SECONDS
    dispatcher = create_dispatcher(context)
    inflight = dispatcher["inflight"]
    answered = asyncio.Event()

    async def answering(_event: Any, _data: dict[str, Any]) -> None:
        await answered.wait()  # an update whose AI answer is still being generated

    task = asyncio.create_task(inflight(answering, object(), {}))
    await asyncio.sleep(0)
    waited: list[float] = []
    real_wait = inflight.wait_idle

    async def wait_idle(timeout: float) -> bool:
        waited.append(timeout)
        answered.set()
        return bool(await real_wait(timeout))

    monkeypatch.setattr(inflight, "wait_idle", wait_idle)

    await dispatcher.emit_shutdown(**dispatcher.workflow_data)  # as start_polling does

    await task
    assert waited == [settings.shutdown_grace_seconds]
    assert waited[0] > llm_timeout


def test_the_margin_leaves_time_to_send_and_pay() -> None:
    # Sending a long answer (a few messages) and one award with bounded database waits.
    assert SHUTDOWN_MARGIN_SECONDS >= 10
