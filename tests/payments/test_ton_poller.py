"""TON end to end: transfers in the fake toncenter, the production poller job, the ledger."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import select

from config.points_config import TransactionType
from src.bootstrap import AppContext
from src.database.payment_models import Payment, PaymentEvent
from src.services.payment_types import PendingPurchase, Provider
from src.services.ton_poller import JOB_NAME
from src.services.toncenter import parse_transaction
from tests.bot.helpers import balance_of, db_user, ledger
from tests.conftest import ContextFactory
from tests.payments.conftest import WALLET, referred_buyer
from tests.support.clock import FakeClock
from tests.support.fake_toncenter import FakeTonCenter
from tests.support.telegram import BotHarness

TON = Provider.TON
NANO = 10**9


async def offer(
    context: AppContext, buyer: int, tier: str = "PREMIUM", months: int = 1
) -> PendingPurchase:
    purchase = await context.payments.create_purchase(buyer, tier, months, TON)
    invoice = await context.gateways[TON].create_invoice(purchase, language="en")
    assert invoice.url == (
        f"https://app.tonkeeper.com/transfer/{WALLET}"
        f"?amount={int(purchase.price * NANO)}&text={purchase.reference}"
    )
    return purchase


async def poll(context: AppContext) -> None:
    assert await context.jobs.run_once(JOB_NAME)


async def stored(context: AppContext) -> tuple[list[Payment], list[PaymentEvent]]:
    async with context.sessions() as session:
        payments = list(await session.scalars(select(Payment).order_by(Payment.id)))
        events = list(await session.scalars(select(PaymentEvent).order_by(PaymentEvent.id)))
    return payments, events


def messages(harness: BotHarness) -> list[SendMessage]:
    return [r for r in harness.session.take() if isinstance(r, SendMessage)]


async def test_a_transfer_pays_once_even_when_seen_twice(
    pay_context: AppContext, harness: BotHarness, fake_ton: FakeTonCenter
) -> None:
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id)
    tx = fake_ton.transfer(WALLET, value_nano=3 * NANO, comment=purchase.reference)

    await poll(pay_context)
    # The same transaction again (a cursor lost, another indexer answer): nothing changes.
    assert pay_context.ton_poller is not None
    await pay_context.ton_poller.handle(parse_transaction(tx))
    await poll(pay_context)

    user = await db_user(pay_context.sessions, buyer.id)
    assert user.tier == "PREMIUM"
    assert await balance_of(pay_context.sessions, buyer.id) == 100 + 1500
    referral = [
        t
        for t in await ledger(pay_context.sessions, buyer.referrer)
        if t.transaction_type == TransactionType.REFERRAL_PURCHASE.value
    ]
    assert len(referral) == 1
    payments, _ = await stored(pay_context)
    assert [(p.provider_payment_id, p.status) for p in payments] == [(tx["hash"], "credited")]
    assert {m.chat_id for m in messages(harness)} == {buyer.id, buyer.referrer}
    assert await pay_context.ton_poller.cursor() == int(tx["lt"])  # type: ignore[union-attr]
    assert fake_ton.requests[-1]["start_lt"] == str(int(tx["lt"]) + 1)


async def test_what_never_credits(
    pay_context: AppContext, harness: BotHarness, fake_ton: FakeTonCenter, clock: FakeClock
) -> None:
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id, "BASIC")
    ref = purchase.reference
    fake_ton.transfer(WALLET, value_nano=NANO, comment=ref, bounced=True)
    fake_ton.transfer(WALLET, value_nano=NANO, comment=ref, aborted=True)
    fake_ton.outgoing(WALLET, comment=ref)
    fake_ton.transfer(WALLET, value_nano=NANO, comment=None)
    fake_ton.transfer(WALLET, value_nano=NANO, comment="to0123456789abcdef")  # unknown
    await poll(pay_context)
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "FREE"
    payments, _ = await stored(pay_context)
    assert [p.status for p in payments] == ["unknown_purchase"]
    assert messages(harness) == []


async def test_underpaid_is_recorded_and_the_user_told(
    pay_context: AppContext, harness: BotHarness, fake_ton: FakeTonCenter
) -> None:
    buyer = await referred_buyer(harness, "ru")
    purchase = await offer(pay_context, buyer.id, "BASIC")
    fake_ton.transfer(WALLET, value_nano=NANO - 1, comment=purchase.reference)
    await poll(pay_context)
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "FREE"
    payments, events = await stored(pay_context)
    assert payments == [] and [e.status for e in events] == ["underpaid"]
    (told,) = messages(harness)
    assert told.chat_id == buyer.id
    # The rest of the price in a second transfer does not add up: each pays on its own.
    fake_ton.transfer(WALLET, value_nano=NANO, comment=purchase.reference.upper() + " ")
    await poll(pay_context)
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "BASIC"


async def test_an_expired_offer_is_recorded_not_credited(
    pay_context: AppContext, harness: BotHarness, fake_ton: FakeTonCenter, clock: FakeClock
) -> None:
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id, "BASIC")
    clock.advance(hours=2)
    fake_ton.transfer(WALLET, value_nano=NANO, comment=purchase.reference)
    await poll(pay_context)
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "FREE"
    payments, _ = await stored(pay_context)
    assert [p.status for p in payments] == ["expired"]


async def test_toncenter_down_keeps_the_cursor(
    pay_context: AppContext, harness: BotHarness, fake_ton: FakeTonCenter
) -> None:
    buyer = await referred_buyer(harness)
    purchase = await offer(pay_context, buyer.id, "BASIC")
    fake_ton.transfer(WALLET, value_nano=NANO, comment=purchase.reference)
    fake_ton.mode = "error"
    await poll(pay_context)  # the failure is counted and logged; the job survives
    assert await pay_context.ton_poller.cursor() == 0  # type: ignore[union-attr]
    fake_ton.mode = "ok"
    await poll(pay_context)
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "BASIC"


async def test_two_workers_never_poll_at_once(
    pay_context: AppContext,
    pay_env: dict[str, str],
    make_context: ContextFactory,
    fake_ton: FakeTonCenter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two processes' job runners (two contexts, one database): while one polls, the other's
    tick is skipped by the job's advisory lock."""
    other = make_context(**pay_env)
    poller = pay_context.ton_poller
    assert poller is not None
    started, release = asyncio.Event(), asyncio.Event()
    client = poller._client
    original = client.transactions

    async def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        await release.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(client, "transactions", slow)
    first = asyncio.create_task(pay_context.jobs.run_once(JOB_NAME))
    await started.wait()
    assert await other.jobs.run_once(JOB_NAME) is False
    release.set()
    assert await first is True
    assert await other.jobs.run_once(JOB_NAME) is True
    assert len(fake_ton.requests) == 2
