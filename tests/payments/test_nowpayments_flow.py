"""NOWPayments end to end: invoice from the fake, IPNs signed by the fake into the ASGI app."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from aiogram.methods import SendMessage
from sqlalchemy import func, select

from config.points_config import TransactionType
from src.api.app import create_api
from src.bootstrap import AppContext
from src.bot.local_session import local_bot
from src.database.payment_models import Payment, PaymentEvent
from src.locales import translator
from src.services import nowpayments_ipn
from src.services.payment_types import PendingPurchase, Provider
from tests.api.conftest import TEST_TOKEN
from tests.bot.helpers import balance_of, db_user, ledger
from tests.conftest import ContextFactory
from tests.payments.conftest import NP_KEY, PUBLIC, Api, referred_buyer
from tests.support.clock import FakeClock
from tests.support.fake_nowpayments import FakeNowPayments
from tests.support.telegram import BotHarness

NP = Provider.NOWPAYMENTS


async def offer(
    context: AppContext, buyer: int, tier: str = "PREMIUM", months: int = 1
) -> PendingPurchase:
    purchase = await context.payments.create_purchase(buyer, tier, months, NP)
    invoice = await context.gateways[NP].create_invoice(purchase, language="en")
    assert invoice.url.startswith("https://nowpayments.io/payment/?iid=")
    return purchase


async def counts(context: AppContext) -> tuple[int, int]:
    async with context.sessions() as session:
        payments = await session.scalar(select(func.count()).select_from(Payment))
        events = await session.scalar(select(func.count()).select_from(PaymentEvent))
    return int(payments or 0), int(events or 0)


async def referral_bonuses(context: AppContext, referrer: int) -> int:
    rows = await ledger(context.sessions, referrer)
    return sum(t.transaction_type == TransactionType.REFERRAL_PURCHASE.value for t in rows)


def sent_to(api: Api, user_id: int) -> list[str]:
    return [
        r.text for r in api.session.take() if isinstance(r, SendMessage) and r.chat_id == user_id
    ]


async def test_the_invoice_request_is_theirs(
    pay_context: AppContext, harness: BotHarness, fake_np: FakeNowPayments
) -> None:
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id, "VIP", 3)
    (request,) = fake_np.requests
    assert request == {
        "price_amount": 83.99,
        "price_currency": "usd",
        "order_id": purchase.reference,
        "order_description": "Syntra VIP, 3 months",
        "ipn_callback_url": f"{PUBLIC}/api/payments/nowpayments",
        "success_url": f"{PUBLIC}/api/payments/nowpayments/return",
        "cancel_url": f"{PUBLIC}/api/payments/nowpayments/return",
    }
    # Asking again for the same purchase shows the same invoice: nothing created twice.
    await pay_context.gateways[NP].create_invoice(purchase, language="en")
    assert len(fake_np.requests) == 1


async def test_finished_credits_once_and_tells_buyer_and_referrer(
    pay_context: AppContext,
    harness: BotHarness,
    fake_np: FakeNowPayments,
    api: Api,
    clock: FakeClock,
) -> None:
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id)
    for status in ("waiting", "confirming"):
        answer = await fake_np.send_ipn(api.client, fake_np.ipn_body(purchase.reference, status))
        assert answer.status_code == 200 and answer.json()["result"] == "recorded"
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "FREE"
    finished = fake_np.ipn_body(purchase.reference, "finished")

    first = await fake_np.send_ipn(api.client, finished)
    again = await fake_np.send_ipn(api.client, finished)

    assert first.json() == {"status": "ok", "result": "credited"}
    assert again.json() == {"status": "ok", "result": "duplicate"}
    user = await db_user(pay_context.sessions, buyer.id)
    assert user.tier == "PREMIUM" and user.tier_expires_at is not None
    assert await balance_of(pay_context.sessions, buyer.id) == 100 + 1500  # first daily + bonus
    assert await referral_bonuses(pay_context, buyer.referrer) == 1
    payments, events = await counts(pay_context)
    assert (payments, events) == (1, 4)
    # One message each to the buyer and the referrer, none for the duplicate.
    assert len(sent_to(api, buyer.id)) == 1


async def test_messages_after_a_finished_payment(
    pay_context: AppContext, harness: BotHarness, fake_np: FakeNowPayments, api: Api
) -> None:
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id, "BASIC")
    api.session.take()
    await fake_np.send_ipn(api.client, fake_np.ipn_body(purchase.reference, "finished"))
    sent = [r for r in api.session.take() if isinstance(r, SendMessage)]
    assert {r.chat_id for r in sent} == {buyer.id, buyer.referrer}


async def test_a_forged_or_missing_signature_writes_nothing(
    pay_context: AppContext, harness: BotHarness, fake_np: FakeNowPayments, api: Api
) -> None:
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id)
    body = fake_np.ipn_body(purchase.reference, "finished")
    raw, good = fake_np.signed(body)
    _, other_secret = fake_np.signed(body, secret="not-the-secret")
    tampered = json.dumps({**body, "price_amount": 999}).encode()
    for content, signature in (
        (raw, None),
        (raw, other_secret),
        (raw, "00" * 64),
        (tampered, good),
    ):
        headers = {"Content-Type": "application/json"}
        if signature:
            headers["x-nowpayments-sig"] = signature
        answer = await api.client.post(
            "/api/payments/nowpayments", content=content, headers=headers
        )
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == "unauthorized"
    assert await counts(pay_context) == (0, 0)
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "FREE"


async def test_wrong_amount_or_currency_is_recorded_not_credited(
    pay_context: AppContext, harness: BotHarness, fake_np: FakeNowPayments, api: Api
) -> None:
    buyer = await referred_buyer(harness)
    cheap = await offer(pay_context, buyer.id)
    answer = await fake_np.send_ipn(
        api.client, fake_np.ipn_body(cheap.reference, "finished", price_amount=1.0)
    )
    assert answer.json()["result"] == "mismatch"
    other = await offer(pay_context, buyer.id)
    answer = await fake_np.send_ipn(
        api.client, fake_np.ipn_body(other.reference, "finished", price_currency="eur")
    )
    assert answer.json()["result"] == "mismatch"
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "FREE"
    assert await referral_bonuses(pay_context, buyer.referrer) == 0
    assert (await counts(pay_context))[0] == 2  # both kept for admins


async def test_partially_paid_is_recorded_and_the_user_told(
    pay_context: AppContext, harness: BotHarness, fake_np: FakeNowPayments, api: Api
) -> None:
    buyer = await referred_buyer(harness, "ru")
    purchase = await offer(pay_context, buyer.id)
    api.session.take()
    answer = await fake_np.send_ipn(
        api.client, fake_np.ipn_body(purchase.reference, "partially_paid", actually_paid=7.5)
    )
    assert answer.json()["result"] == "recorded"
    (told,) = [r for r in api.session.take() if isinstance(r, SendMessage)]
    expected = translator("ru")("pay-partial", tier="PREMIUM", status="partially_paid")
    assert (told.chat_id, told.text) == (buyer.id, expected)
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "FREE"
    assert await counts(pay_context) == (0, 1)


async def test_refunded_takes_the_purchase_back(
    pay_context: AppContext, harness: BotHarness, fake_np: FakeNowPayments, api: Api
) -> None:
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id, "BASIC")
    finished = fake_np.ipn_body(purchase.reference, "finished")
    await fake_np.send_ipn(api.client, finished)
    assert await balance_of(pay_context.sessions, buyer.id) == 100 + 500
    refunded = {**finished, "payment_status": "refunded"}
    api.session.take()
    first = await fake_np.send_ipn(api.client, refunded)
    assert first.json()["result"] == "refunded"
    told = translator("en")("pay-refunded", tier="FREE", clawed="500")
    assert sent_to(api, buyer.id) == [told]
    again = await fake_np.send_ipn(api.client, refunded)
    assert again.json()["result"] == "already_refunded"
    assert sent_to(api, buyer.id) == []  # told once
    assert await balance_of(pay_context.sessions, buyer.id) == 100
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "FREE"


async def test_a_provider_refusal_is_a_clear_error(
    pay_context: AppContext, harness: BotHarness, fake_np: FakeNowPayments
) -> None:
    from src.services.payment_providers import GatewayError

    buyer = await referred_buyer(harness)
    purchase = await pay_context.payments.create_purchase(buyer.id, "BASIC", 1, NP)
    fake_np.api_key = "rotated"
    try:
        await pay_context.gateways[NP].create_invoice(purchase, language="en")
    except GatewayError as exc:
        assert "refused the API key" in str(exc)
    else:
        raise AssertionError("no error")
    assert fake_np.invoices == {} and fake_np.api_key != NP_KEY


async def test_without_nowpayments_the_route_is_404(make_context: ContextFactory) -> None:
    bot, _ = local_bot()
    app = create_api(make_context(BOT_TOKEN=TEST_TOKEN), bot=bot)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as client:
        answer = await client.post("/api/payments/nowpayments", content=b"{}")
    assert answer.status_code == 404 and answer.json()["error"] == "not_configured"


async def test_slow_work_answers_503_in_time_and_still_finishes(
    pay_context: AppContext,
    harness: BotHarness,
    fake_np: FakeNowPayments,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The answer never waits past the bound; the work is not cut mid-transaction, and the
    provider's resend is then a duplicate."""
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id, "BASIC")
    monkeypatch.setattr(nowpayments_ipn, "PROCESS_SECONDS", 0.2)
    original = pay_context.payments.complete_purchase

    async def slow(**kwargs: Any) -> Any:
        await asyncio.sleep(0.6)
        return await original(**kwargs)

    monkeypatch.setattr(pay_context.payments, "complete_purchase", slow)
    finished = fake_np.ipn_body(purchase.reference, "finished")
    started = time.monotonic()
    answer = await fake_np.send_ipn(api.client, finished)
    assert answer.status_code == 503 and time.monotonic() - started < 0.5
    assert pay_context.nowpayments_ipn is not None
    await pay_context.nowpayments_ipn.aclose()  # what shutdown does: let it finish
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "BASIC"
    monkeypatch.undo()
    again = await fake_np.send_ipn(api.client, finished)
    assert again.status_code == 200, again.text
    assert again.json()["result"] == "duplicate"
