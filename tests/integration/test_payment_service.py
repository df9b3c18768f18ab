"""PaymentService on the real database: one transaction per payment, credited exactly once,
tier arithmetic, refunds never below zero (SPEC 9)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from config.points_config import Tier, TransactionType
from src.bootstrap import AppContext
from src.database.models import User
from src.services.payment_types import (
    CompletionStatus,
    DowngradeRefusedError,
    Provider,
    RefundStatus,
)
from tests.bot.helpers import balance_of, db_user, ledger
from tests.support.clock import FakeClock
from tests.support.factories import create_user, set_tier

STARS = Provider.STARS


async def pay(context: AppContext, user_id: int, tier: str, months: int, charge: str) -> object:
    purchase = await context.payments.create_purchase(user_id, tier, months, STARS)
    return await context.payments.complete_purchase(
        provider=STARS,
        provider_payment_id=charge,
        reference=purchase.reference,
        amount=purchase.price,
        currency="XTR",
        raw={"charge": charge},
    )


async def test_purchase_sets_tier_and_pays_bonus_and_referrer_once(
    context: AppContext, clock: FakeClock
) -> None:
    sessions = context.sessions
    referrer = await create_user(sessions)
    buyer = await create_user(sessions, language_code="ru")
    async with sessions() as session, session.begin():
        user = await session.get(User, buyer)
        assert user is not None
        user.referrer_id = referrer

    outcome = await pay(context, buyer, "PREMIUM", 3, "ch-1")

    assert outcome.status is CompletionStatus.CREDITED  # type: ignore[attr-defined]
    assert outcome.bonus_credited == 4500  # type: ignore[attr-defined]
    assert outcome.referrer_bonus_credited == 1000  # type: ignore[attr-defined]
    stored = await db_user(sessions, buyer)
    assert stored.tier == "PREMIUM"
    assert stored.tier_expires_at == clock() + timedelta(days=90)
    assert await balance_of(sessions, buyer) == 4500
    assert await balance_of(sessions, referrer) == 1000

    # A second purchase: the referrer's first-purchase bonus is not paid again.
    again = await pay(context, buyer, "PREMIUM", 1, "ch-2")
    assert again.referrer_bonus_credited == 0  # type: ignore[attr-defined]
    assert await balance_of(sessions, referrer) == 1000
    assert (await db_user(sessions, buyer)).tier_expires_at == clock() + timedelta(days=120)


async def test_the_same_provider_payment_credits_once(context: AppContext) -> None:
    buyer = await create_user(context.sessions)
    purchase = await context.payments.create_purchase(buyer, "BASIC", 1, STARS)
    kwargs = dict(
        provider=STARS,
        provider_payment_id="dup",
        reference=purchase.reference,
        amount=Decimal(250),
        currency="XTR",
        raw={},
    )
    first = await context.payments.complete_purchase(**kwargs)  # type: ignore[arg-type]
    second = await context.payments.complete_purchase(**kwargs)  # type: ignore[arg-type]
    assert first.status is CompletionStatus.CREDITED
    assert second.status is CompletionStatus.DUPLICATE
    assert await balance_of(context.sessions, buyer) == 500
    rows = await ledger(context.sessions, buyer)
    assert [r.transaction_type for r in rows] == [TransactionType.SUBSCRIPTION]


@pytest.mark.parametrize(("amount", "currency"), [(Decimal(249), "XTR"), (Decimal(250), "USD")])
async def test_wrong_amount_or_currency_is_recorded_not_credited(
    context: AppContext, amount: Decimal, currency: str
) -> None:
    buyer = await create_user(context.sessions)
    purchase = await context.payments.create_purchase(buyer, "BASIC", 1, STARS)
    outcome = await context.payments.complete_purchase(
        provider=STARS,
        provider_payment_id="bad",
        reference=purchase.reference,
        amount=amount,
        currency=currency,
        raw={},
    )
    assert outcome.status is CompletionStatus.MISMATCH
    assert await balance_of(context.sessions, buyer) == 0
    assert (await db_user(context.sessions, buyer)).tier == "FREE"
    summary = await context.payments.summary()
    assert [p.status for p in summary.problems] == ["mismatch"]


async def test_an_expired_offer_is_recorded_not_credited(
    context: AppContext, clock: FakeClock
) -> None:
    buyer = await create_user(context.sessions)
    purchase = await context.payments.create_purchase(buyer, "BASIC", 1, STARS)
    clock.advance(minutes=31)
    outcome = await context.payments.complete_purchase(
        provider=STARS,
        provider_payment_id="late",
        reference=purchase.reference,
        amount=purchase.price,
        currency="XTR",
        raw={},
    )
    assert outcome.status is CompletionStatus.EXPIRED
    assert await balance_of(context.sessions, buyer) == 0


async def test_upgrade_converts_unused_days_and_downgrade_is_refused(
    context: AppContext, clock: FakeClock
) -> None:
    buyer = await create_user(context.sessions)
    await set_tier(context.sessions, buyer, Tier.BASIC, clock() + timedelta(days=30))
    await context.payments.create_purchase(buyer, "BASIC", 1, STARS)  # the same tier: fine
    await set_tier(context.sessions, buyer, Tier.VIP, clock() + timedelta(days=10))
    with pytest.raises(DowngradeRefusedError):
        await context.payments.create_purchase(buyer, "PREMIUM", 1, STARS)

    await set_tier(context.sessions, buyer, Tier.BASIC, clock() + timedelta(days=30))
    await pay(context, buyer, "VIP", 1, "up")
    # 30 unused BASIC days are worth 30 x 250/1500 = 5 VIP days.
    stored = await db_user(context.sessions, buyer)
    assert stored.tier == "VIP"
    assert stored.tier_expires_at == clock() + timedelta(days=35)


async def test_refund_ends_the_span_and_never_goes_below_zero(
    context: AppContext, clock: FakeClock
) -> None:
    buyer = await create_user(context.sessions)
    await pay(context, buyer, "BASIC", 1, "r1")
    await context.points.spend(user_id=buyer, amount=300, key="spent")

    refund = await context.payments.refund(provider=STARS, provider_payment_id="r1", raw={})

    assert refund.status is RefundStatus.REFUNDED
    assert (refund.clawed_back, refund.unrecovered) == (200, 300)
    assert await balance_of(context.sessions, buyer) == 0
    stored = await db_user(context.sessions, buyer)
    assert stored.tier == "FREE"
    again = await context.payments.refund(provider=STARS, provider_payment_id="r1", raw={})
    assert again.status is RefundStatus.ALREADY_REFUNDED
    summary = await context.payments.summary()
    assert summary.problems[0].unrecovered == 300


async def test_concurrent_deliveries_of_one_payment_credit_once(context: AppContext) -> None:
    buyer = await create_user(context.sessions)
    purchase = await context.payments.create_purchase(buyer, "PREMIUM", 1, STARS)

    async def deliver() -> CompletionStatus:
        outcome = await context.payments.complete_purchase(
            provider=STARS,
            provider_payment_id="same-charge",
            reference=purchase.reference,
            amount=purchase.price,
            currency="XTR",
            raw={},
        )
        return outcome.status

    statuses = await asyncio.gather(*(deliver() for _ in range(8)))

    assert sorted(statuses) == sorted(
        [CompletionStatus.CREDITED] + [CompletionStatus.DUPLICATE] * 7
    )
    assert await balance_of(context.sessions, buyer) == 1500


async def test_a_second_payment_for_a_paid_offer_is_recorded_not_credited(
    context: AppContext,
) -> None:
    buyer = await create_user(context.sessions)
    purchase = await context.payments.create_purchase(buyer, "BASIC", 1, STARS)
    for charge in ("c1", "c2"):
        await context.payments.complete_purchase(
            provider=STARS,
            provider_payment_id=charge,
            reference=purchase.reference,
            amount=purchase.price,
            currency="XTR",
            raw={},
        )
    assert await balance_of(context.sessions, buyer) == 500
    summary = await context.payments.summary()
    assert [p.provider_payment_id for p in summary.problems] == ["c2"]


async def test_payment_events_are_kept_and_name_the_buyer(context: AppContext) -> None:
    buyer = await create_user(context.sessions, language_code="ru")
    purchase = await context.payments.create_purchase(buyer, "VIP", 3, Provider.TON)
    assert purchase.price == Decimal("16.8") and purchase.currency == "TON"
    assert await context.payments.find_pending(Provider.TON, purchase.reference) == purchase

    event = await context.payments.record_payment_event(
        provider=Provider.TON,
        provider_payment_id="tx-hash",
        reference=purchase.reference,
        status="underpaid",
        amount=Decimal("10"),
        currency="TON",
        raw={"value": "10000000000"},
    )

    assert event.purchase == purchase
    assert event.buyer is not None and event.buyer.language == "ru"
    assert (await db_user(context.sessions, buyer)).tier == "FREE"


async def test_purchases_and_batched_earns_of_buyer_and_referrer_run_side_by_side(
    context: AppContext,
) -> None:
    """The payment locks balance rows in the batches' order: no deadlock, every figure exact."""
    referrer = await create_user(context.sessions)
    buyers = [await create_user(context.sessions) for _ in range(4)]
    async with context.sessions() as session, session.begin():
        for buyer in buyers:
            user = await session.get(User, buyer)
            assert user is not None
            user.referrer_id = referrer

    async def earn(user_id: int, n: int) -> None:
        await context.points.admin_grant(
            user_id=user_id, amount=1, admin_id=1, key=f"g:{user_id}:{n}"
        )

    jobs = [pay(context, b, "BASIC", 1, f"conc-{b}") for b in buyers]
    jobs += [earn(u, n) for n in range(10) for u in (referrer, *buyers)]
    await asyncio.gather(*jobs)

    assert await balance_of(context.sessions, referrer) == 1000 * len(buyers) + 10
    for buyer in buyers:
        assert await balance_of(context.sessions, buyer) == 500 + 10
