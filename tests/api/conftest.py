"""The API over ASGI (httpx.ASGITransport) on the production context: real PostgreSQL,
FakeClock, a local Bot API; init data signed with the test token as Telegram signs it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI

from src.api.app import create_api
from src.api.init_data import sign_init_data
from src.bootstrap import AppContext
from src.bot.local_session import local_bot
from tests.conftest import ContextFactory
from tests.support.clock import FakeClock

TEST_TOKEN = "424242:API-TEST-TOKEN"

ClientFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
def api_context(make_context: ContextFactory) -> AppContext:
    return make_context(BOT_TOKEN=TEST_TOKEN)


def app_for(context: AppContext) -> FastAPI:
    bot, _ = local_bot()
    return create_api(context, bot=bot)


def client_for(context: AppContext) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app_for(context))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def make_client(make_context: ContextFactory) -> AsyncIterator[ClientFactory]:
    """build(**settings) -> a client of a fresh app on the production context (BOT_TOKEN is
    the test token)."""
    clients: list[httpx.AsyncClient] = []

    def build(**settings: str) -> httpx.AsyncClient:
        clients.append(client_for(make_context(BOT_TOKEN=TEST_TOKEN, **settings)))
        return clients[-1]

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
async def client(api_context: AppContext) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(api_context) as client:
        yield client


class Signer:
    """Authorization headers for test users, signed at the FakeClock's time."""

    def __init__(self, clock: FakeClock, token: str = TEST_TOKEN) -> None:
        self.clock = clock
        self.token = token

    def init_data(
        self,
        user_id: int,
        *,
        language: str = "en",
        auth_date: datetime | None = None,
        token: str | None = None,
        **fields: str,
    ) -> str:
        return sign_init_data(
            token or self.token,
            user_id=user_id,
            auth_date=auth_date or self.clock(),
            language_code=language,
            **fields,  # type: ignore[arg-type]
        )

    def headers(self, user_id: int, **kwargs: object) -> dict[str, str]:
        return {"Authorization": f"tma {self.init_data(user_id, **kwargs)}"}  # type: ignore[arg-type]


@pytest.fixture
def signer(clock: FakeClock) -> Signer:
    return Signer(clock)
