"""NOWPayments and TON end to end: the production context with both configured against local
fakes, the ASGI app for IPNs, the production dispatcher for users, a referred buyer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from src.api.app import create_api
from src.bootstrap import AppContext
from src.bot.local_session import LocalBotSession, local_bot
from src.bot.payment_notifier import PaymentNotifier
from tests.api.conftest import TEST_TOKEN
from tests.bot.helpers import invite_link_of
from tests.conftest import ContextFactory, harness_for
from tests.support.factories import next_user_id
from tests.support.fake_nowpayments import FakeNowPayments
from tests.support.fake_toncenter import FakeTonCenter
from tests.support.telegram import BotHarness

NP_KEY, NP_SECRET = "np-test-key", "np-test-ipn-secret"
TON_KEY = "toncenter-test-key"
WALLET = "UQBvW8Z5huBkMJYdnfAEM5JqTNkuWX3diqYENkWsIL0XggGG"
PUBLIC = "https://pay.example"


@pytest.fixture
async def fake_np() -> AsyncIterator[FakeNowPayments]:
    async with FakeNowPayments(api_key=NP_KEY, ipn_secret=NP_SECRET) as fake:
        yield fake


@pytest.fixture
async def fake_ton() -> AsyncIterator[FakeTonCenter]:
    async with FakeTonCenter(api_key=TON_KEY) as fake:
        yield fake


@pytest.fixture
def pay_env(fake_np: FakeNowPayments, fake_ton: FakeTonCenter) -> dict[str, str]:
    """Both providers configured, against the fakes."""
    return {
        "BOT_TOKEN": TEST_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC,
        "NOWPAYMENTS_API_KEY": NP_KEY,
        "NOWPAYMENTS_IPN_SECRET": NP_SECRET,
        "NOWPAYMENTS_API_BASE": fake_np.base_url,
        "TON_WALLET_ADDRESS": WALLET,
        "TONCENTER_API_BASE": fake_ton.base_url,
        "TONCENTER_API_KEY": TON_KEY,
    }


@pytest.fixture
def pay_context(make_context: ContextFactory, pay_env: dict[str, str]) -> AppContext:
    return make_context(**pay_env)


@pytest.fixture
def harness(pay_context: AppContext) -> BotHarness:
    """The production dispatcher; the TON poller messages users through its Bot (bot.py)."""
    harness = harness_for(pay_context)
    assert pay_context.ton_poller is not None
    pay_context.ton_poller.notices = PaymentNotifier(harness.bot, timezone="UTC")
    return harness


@dataclass
class Api:
    client: httpx.AsyncClient
    session: LocalBotSession  # what the API process sent to Telegram


@pytest.fixture
async def api(pay_context: AppContext) -> AsyncIterator[Api]:
    bot, session = local_bot()
    app = create_api(pay_context, bot=bot)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        yield Api(client, session)


@dataclass(frozen=True)
class Buyer:
    id: int
    referrer: int
    language: str


async def referred_buyer(harness: BotHarness, language: str = "en") -> Buyer:
    """A referrer and the user they invited, both registered through /start."""
    referrer, buyer = next_user_id(), next_user_id()
    await harness.send("/start", user_id=referrer, language_code=language)
    link = await invite_link_of(harness.dispatcher["context"].sessions, referrer)
    await harness.send(f"/start {link.split('start=')[1]}", user_id=buyer, language_code=language)
    harness.session.take()
    return Buyer(buyer, referrer, language)
