"""The LLM client against a local fake of the OpenAI chat-completions API, over real HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from config.settings import load_settings
from src.services.llm_client import (
    DEFAULT_SYSTEM_PROMPT,
    LLMClient,
    LLMNotConfiguredError,
    LLMTimeoutError,
    LLMUnavailableError,
)
from tests.support.fake_openai import FakeOpenAI

KEY = "sk-test-secret-123"

ClientFactory = Callable[..., LLMClient]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def make_client(fake: FakeOpenAI) -> AsyncIterator[ClientFactory]:
    clients: list[LLMClient] = []

    def build(**overrides: object) -> LLMClient:
        options: dict[str, object] = {
            "base_url": fake.base_url,
            "api_key": KEY,
            "model": "test-model",
            "timeout": 5.0,
        }
        options.update(overrides)
        client = LLMClient(**options)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.aclose()


async def test_answer_sends_an_openai_request(fake: FakeOpenAI, make_client: ClientFactory) -> None:
    client = make_client()
    assert client.configured

    answer = await client.answer(question="What is a blockchain?", language="en", user_id=42)

    assert answer == "Answer: What is a blockchain?"
    [request] = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "test-model"
    assert request.body["user"] == "42"
    system, user = request.body["messages"]
    assert system["role"] == "system" and system["content"].startswith(DEFAULT_SYSTEM_PROMPT)
    assert "English" in system["content"]
    assert user == {"role": "user", "content": "What is a blockchain?"}


async def test_russian_is_requested_for_ru(fake: FakeOpenAI, make_client: ClientFactory) -> None:
    await make_client().answer(question="Что такое биткоин?", language="ru", user_id=7)
    system = fake.requests[-1].body["messages"][0]["content"]
    assert "Answer in Russian." in system and "English" not in system


async def test_custom_system_prompt_and_no_key(
    fake: FakeOpenAI, make_client: ClientFactory
) -> None:
    client = make_client(api_key=None, system_prompt="Be brief.")
    assert await client.answer(question="hi", language="en", user_id=1) == "Answer: hi"
    request = fake.requests[-1]
    assert "authorization" not in request.headers
    assert request.body["messages"][0]["content"].startswith("Be brief.")


async def test_from_settings(fake: FakeOpenAI) -> None:
    settings = load_settings(
        _env_file=None,
        LLM_BASE_URL=fake.base_url + "/",
        LLM_API_KEY=KEY,
        LLM_MODEL="settings-model",
        LLM_TIMEOUT_SECONDS=3,
    )
    client = LLMClient.from_settings(settings)
    try:
        assert await client.answer(question="q", language="en", user_id=5) == "Answer: q"
    finally:
        await client.aclose()
    request = fake.requests[-1]
    assert request.body["model"] == "settings-model"
    assert request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("base_url", [None, "", "  "])
async def test_not_configured(base_url: str | None, fake: FakeOpenAI) -> None:
    client = LLMClient(base_url=base_url, api_key=KEY, model="m", timeout=1)
    assert not client.configured
    with pytest.raises(LLMNotConfiguredError):
        await client.answer(question="q", language="en", user_id=1)
    await client.aclose()
    assert fake.requests == []


async def test_not_configured_from_settings() -> None:
    client = LLMClient.from_settings(load_settings(_env_file=None, LLM_BASE_URL=""))
    assert not client.configured


async def test_timeout(fake: FakeOpenAI, make_client: ClientFactory) -> None:
    fake.mode = "slow"
    client = make_client(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        await client.answer(question="q", language="en", user_id=1)
    assert time.monotonic() - started < 2
    assert len(fake.requests) == 1


async def test_http_error(fake: FakeOpenAI, make_client: ClientFactory) -> None:
    fake.mode = "error"
    with pytest.raises(LLMUnavailableError) as caught:
        await make_client().answer(question="q", language="en", user_id=1)
    assert "HTTP 500" in str(caught.value)


async def test_malformed_response(fake: FakeOpenAI, make_client: ClientFactory) -> None:
    fake.mode = "malformed"
    with pytest.raises(LLMUnavailableError) as caught:
        await make_client().answer(question="q", language="en", user_id=1)
    assert "choices" in str(caught.value)


@pytest.mark.parametrize("reply", ["", "  \n\t "])
async def test_empty_answer(reply: str, fake: FakeOpenAI, make_client: ClientFactory) -> None:
    fake.reply = reply
    with pytest.raises(LLMUnavailableError, match="empty"):
        await make_client().answer(question="q", language="en", user_id=1)


@pytest.mark.parametrize("client_key", ["sk-wrong-key-456", None])
async def test_wrong_key(
    client_key: str | None, fake: FakeOpenAI, make_client: ClientFactory
) -> None:
    fake.expected_key = KEY
    with pytest.raises(LLMUnavailableError) as caught:
        await make_client(api_key=client_key).answer(question="q", language="en", user_id=1)
    assert "401" in str(caught.value)
    assert client_key is None or client_key not in str(caught.value)
    # Recovering with the right key works on the same server.
    assert await make_client().answer(question="q", language="en", user_id=1) == "Answer: q"


async def test_network_error(make_client: ClientFactory) -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(LLMUnavailableError, match="request failed"):
        await client.answer(question="q", language="en", user_id=1)


async def test_non_json_body() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>proxy</html>"))
    client = LLMClient(
        base_url="http://llm.invalid/v1", api_key=KEY, model="m", timeout=1, transport=transport
    )
    with pytest.raises(LLMUnavailableError, match="not JSON"):
        await client.answer(question="q", language="en", user_id=1)
    await client.aclose()


async def test_long_answer_passes_through_intact(
    fake: FakeOpenAI, make_client: ClientFactory
) -> None:
    body = "\n\n".join(f"Пункт {i}: *bitcoin* — «halving» & <tags> 🚀 " * 8 for i in range(300))
    fake.reply = f"  \n{body.strip()}\n  "
    answer = await make_client().answer(question="q", language="ru", user_id=1)
    assert answer == body.strip()
    assert len(answer) > 50_000


async def test_aclose_twice_is_safe(make_client: ClientFactory) -> None:
    client = make_client()
    await client.answer(question="q", language="en", user_id=1)
    await client.aclose()
    await client.aclose()
