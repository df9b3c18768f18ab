"""Refunds (/points_refund, Telegram's refunded_payment), payments in admin analytics and the
user card; the fake Bot API's Stars refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.exceptions import TelegramBadRequest

from config.points_config import Tier
from src.locales import translator
from tests.bot.helpers import LANGS, balance_of, db_user, ledger
from tests.bot.payment_harness import PayBot, button_data, texts
from tests.bot.test_payments_stars import buy_basic_with_stars
from tests.conftest import ADMIN_ID
from tests.support.clock import FakeClock
from tests.support.factories import create_user, set_tier


async def paid_basic(paybot: PayBot, buyer: int, lang: str = "en") -> str:
    payload = await buy_basic_with_stars(paybot, buyer, lang)
    paybot.fake.pre_checkout(user_id=buyer, payload=payload, language_code=lang)
    await paybot.feed_queued()
    paybot.fake.successful_payment(user_id=buyer, payload=payload, language_code=lang)
    await paybot.feed_queued()
    return next(iter(paybot.fake.charges))


@pytest.mark.parametrize("lang", LANGS)
async def test_admin_refund_asks_then_refunds_and_takes_back_what_the_balance_covers(
    paybot: PayBot, clock: FakeClock, lang: str
) -> None:
    sessions = paybot.context.sessions
    await create_user(sessions, telegram_id=ADMIN_ID, language_code=lang)
    buyer = await create_user(sessions, language_code=lang)
    charge = await paid_basic(paybot, buyer, lang)
    await paybot.context.points.spend(user_id=buyer, amount=300, key="shop:1")  # bonus spent

    prompt = await paybot.send(f"/points_refund {charge}", user_id=ADMIN_ID, lang=lang)
    assert button_data(prompt[-1]) == [f"adm_rf:{1}:1", f"adm_rf:{1}:0"]
    assert paybot.fake.calls_to("refundStarPayment") == []

    done = await paybot.press("adm_rf:1:1", user_id=ADMIN_ID, lang=lang)

    t = translator(lang)
    refund = next(c for c in done if c.method == "refundStarPayment")
    assert (refund.params["user_id"], refund.params["telegram_payment_charge_id"]) == (
        buyer,
        charge,
    )
    assert texts(done, buyer) == [t("pay-refunded", tier="FREE", clawed="200")]
    assert t("admin-refund-done", clawed=200, unrecovered=300) in texts(done, ADMIN_ID)
    assert await balance_of(sessions, buyer) == 0  # never below zero
    rows = await ledger(sessions, buyer)
    assert [(r.transaction_type, r.amount) for r in rows][-1] == ("refund_subscription", -200)
    user = await db_user(sessions, buyer)
    assert (user.tier, user.tier_expires_at) == ("FREE", None)  # as before the purchase

    # Telegram then reports the refund: already recorded, nothing changes, nobody is told twice.
    paybot.fake.refunded_payment(user_id=buyer, charge_id=charge)
    assert texts(await paybot.feed_queued()) == []
    # A second press: the payment is refunded already.
    again = await paybot.press("adm_rf:1:1", user_id=ADMIN_ID, lang=lang)
    assert paybot.fake.calls_to("refundStarPayment") == [refund]
    alert = next(c for c in again if c.method == "answerCallbackQuery")
    assert alert.params["text"] == t("admin-refund-not-credited", status="refunded")
    summary = await paybot.context.payments.summary()
    assert [(p.status, p.unrecovered) for p in summary.problems] == [("refunded", 300)]
    paybot.assert_clean()


async def test_a_refund_telegram_already_made_is_still_recorded(paybot: PayBot) -> None:
    await create_user(paybot.context.sessions, telegram_id=ADMIN_ID)
    buyer = await create_user(paybot.context.sessions)
    charge = await paid_basic(paybot, buyer)
    paybot.fake.charges[charge].refunded = True  # refunded by other means meanwhile

    await paybot.send(f"/points_refund {charge}", user_id=ADMIN_ID)
    await paybot.press("adm_rf:1:1", user_id=ADMIN_ID)

    assert await balance_of(paybot.context.sessions, buyer) == 0
    assert (await db_user(paybot.context.sessions, buyer)).tier == "FREE"
    paybot.assert_clean()


async def test_refunded_payment_from_telegram_reverses_the_purchase(
    paybot: PayBot, clock: FakeClock
) -> None:
    buyer = await create_user(paybot.context.sessions)
    await set_tier(paybot.context.sessions, buyer, Tier.BASIC, clock() + timedelta(days=5))
    charge = await paid_basic(paybot, buyer)
    extended = (await db_user(paybot.context.sessions, buyer)).tier_expires_at
    assert extended == clock() + timedelta(days=35)

    paybot.fake.refunded_payment(user_id=buyer, charge_id=charge)
    sent = await paybot.feed_queued()

    assert texts(sent, buyer) == [translator("en")("pay-refunded", tier="BASIC", clawed="500")]
    user = await db_user(paybot.context.sessions, buyer)
    assert (user.tier, user.tier_expires_at) == ("BASIC", clock() + timedelta(days=5))
    assert await balance_of(paybot.context.sessions, buyer) == 0
    paybot.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
async def test_analytics_payments_tab_and_user_card_show_payments(
    paybot: PayBot, lang: str
) -> None:
    await create_user(paybot.context.sessions, telegram_id=ADMIN_ID, language_code=lang)
    buyer = await create_user(paybot.context.sessions)
    charge = await paid_basic(paybot, buyer)
    t = translator(lang)

    tab = await paybot.send("/points_analytics", user_id=ADMIN_ID, lang=lang)
    shown = await paybot.press("adm_an:payments:0", user_id=ADMIN_ID, lang=lang)
    assert "adm_an:payments:0" in button_data(tab[-1])
    text = texts(shown, ADMIN_ID)[-1]
    payments_word = "1 payment" if lang == "en" else "1 платёж"
    assert (
        t("admin-pay-revenue-line", provider="stars", total="250", currency="XTR", count=1) in text
    )
    assert payments_word in text
    assert t("admin-pay-subscribers", subscribers="BASIC 1 · PREMIUM 0 · VIP 0") in text

    card = await paybot.send(f"/points_user {buyer}", user_id=ADMIN_ID, lang=lang)
    card_text = texts(card, ADMIN_ID)[-1]
    assert t("admin-pay-user-title", count=1) in card_text
    assert charge in card_text
    paybot.assert_clean()


async def test_the_fake_refuses_what_telegram_refuses(paybot: PayBot) -> None:
    bot = paybot.bot
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(42, "no-such-charge")
    query = paybot.fake.pre_checkout(user_id=42, payload="p", amount=1, age=11)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(query, ok=True)
    with pytest.raises(TelegramBadRequest, match="SUBSCRIPTION_PERIOD_INVALID"):
        await bot.create_invoice_link(
            "t", "d", "p", "XTR", [{"label": "x", "amount": 1}], subscription_period=86400
        )
    with pytest.raises(TelegramBadRequest, match="PAYMENT_PROVIDER_INVALID"):
        await bot.send_invoice(
            42, "t", "d", "p", "XTR", [{"label": "x", "amount": 1}], provider_token="tok"
        )
