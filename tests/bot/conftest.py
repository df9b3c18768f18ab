"""Harness variants for the handler tests: another time zone, a short or missing AI timeout.

`harness` (tests/conftest.py) is the production dispatcher with TIMEZONE=UTC and a 2 s LLM
timeout. The factory below builds the same thing with other settings, on the same test
database, FakeClock and fake LLM, so a test can say exactly what differs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from src.bootstrap import AppContext
from src.services.points_service import PointsService
from tests.bot.payment_harness import paybot  # noqa: F401  (a fixture for the payment tests)
from tests.conftest import ContextFactory, harness_for
from tests.support.telegram import BotHarness

HarnessFactory = Callable[..., BotHarness]

# Short enough to keep the suite fast, long enough for a local "ok" answer on a busy machine.
SHORT_LLM_TIMEOUT = 0.3


@pytest.fixture
def points(context: AppContext) -> PointsService:
    """The very service the handlers use, so a test can break it or move points with it."""
    return context.points


@pytest.fixture
def make_harness(make_context: ContextFactory) -> HarnessFactory:
    """build(**settings) -> BotHarness, e.g. build(TIMEZONE="Europe/Moscow")."""

    def build(**settings: str) -> BotHarness:
        return harness_for(make_context(**settings))

    return build


@pytest.fixture
def moscow(make_harness: HarnessFactory) -> BotHarness:
    """TIMEZONE=Europe/Moscow (UTC+3): days start at 21:00 UTC."""
    return make_harness(TIMEZONE="Europe/Moscow")


@pytest.fixture
def impatient(make_harness: HarnessFactory) -> BotHarness:
    """An LLM client that gives up after SHORT_LLM_TIMEOUT seconds."""
    return make_harness(LLM_TIMEOUT_SECONDS=str(SHORT_LLM_TIMEOUT))


@pytest.fixture
def no_ai(make_harness: HarnessFactory) -> BotHarness:
    """LLM_BASE_URL not set: the assistant is not configured."""
    return make_harness(LLM_BASE_URL="")
