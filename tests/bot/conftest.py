"""Harness variants for the handler tests: another time zone, a short or missing AI timeout.

`harness` (tests/conftest.py) is the production dispatcher with TIMEZONE=UTC and a 2 s LLM
timeout. The factory below builds the same thing with other settings, on the same test
database, FakeClock and fake LLM, so a test can say exactly what differs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.settings import load_settings
from src.bot.dispatcher import create_dispatcher
from src.bot.local_session import local_bot
from src.services.llm_client import LLMClient
from src.services.user_service import UserService
from tests.conftest import ADMIN_ID, ServiceFactory
from tests.support.clock import FakeClock
from tests.support.fake_openai import FakeOpenAI
from tests.support.telegram import BotHarness

HarnessFactory = Callable[..., BotHarness]

# Short enough to keep the suite fast, long enough for a local "ok" answer on a busy machine.
SHORT_LLM_TIMEOUT = 0.3
UNSET = object()


@pytest.fixture
async def make_harness(
    make_service: ServiceFactory,
    clean_db: None,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    fake_llm: FakeOpenAI,
) -> AsyncIterator[HarnessFactory]:
    """build(timezone=..., llm_timeout=..., llm_base_url=...) -> BotHarness."""
    fake_llm.mode, fake_llm.reply, fake_llm.expected_key = "ok", None, None
    fake_llm.requests.clear()
    clients: list[LLMClient] = []

    def build(
        *,
        timezone: str = "UTC",
        llm_timeout: float = 2.0,
        llm_base_url: object = UNSET,
    ) -> BotHarness:
        base_url = fake_llm.base_url if llm_base_url is UNSET else llm_base_url
        assert base_url is None or isinstance(base_url, str)
        llm = LLMClient(
            base_url=base_url, api_key="test-key", model="test-model", timeout=llm_timeout
        )
        clients.append(llm)
        settings = load_settings(_env_file=None, ADMIN_IDS=str(ADMIN_ID), TIMEZONE=timezone)
        dispatcher = create_dispatcher(
            settings=settings,
            points=make_service(timezone=timezone),
            users=UserService(session_factory=sessions, clock=clock),
            llm=llm,
        )
        bot, session = local_bot()
        return BotHarness(dispatcher, bot, session)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
def moscow(make_harness: HarnessFactory) -> BotHarness:
    """TIMEZONE=Europe/Moscow (UTC+3): days start at 21:00 UTC."""
    return make_harness(timezone="Europe/Moscow")


@pytest.fixture
def impatient(make_harness: HarnessFactory) -> BotHarness:
    """An LLM client that gives up after SHORT_LLM_TIMEOUT seconds."""
    return make_harness(llm_timeout=SHORT_LLM_TIMEOUT)


@pytest.fixture
def no_ai(make_harness: HarnessFactory) -> BotHarness:
    """LLM_BASE_URL not set: the assistant is not configured."""
    return make_harness(llm_base_url=None)
