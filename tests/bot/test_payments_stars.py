"""Telegram Stars end to end: the production dispatcher against the HTTP fake of the Bot API.

/subscribe → plan → period → method → sendInvoice (XTR, empty provider token) →
pre_checkout_query answered → successful_payment → tier, bonus, referrer bonus, messages in
each person's language; replays, refusals at checkout, Stars subscriptions and renewals.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from config.points_config import Tier
from src.database.models import User
from src.locales import translator
from src.services.payment_types import Provider
from tests.bot.helpers import LANGS, balance_of, db_user, ledger
from tests.bot.payment_harness import PayBot, button_data, texts
from tests.support.clock import FakeClock
from tests.support.factories import create_user, set_tier

PAY_BASIC_1 = "sub:pay:BASIC:1:stars:0"


async def buy_basic_with_stars(paybot: PayBot, user_id: int, lang: str) -> str:
    """Walk /subscribe to a Stars invoice for BASIC x 1 month; its payload."""
    shown = await paybot.send("/subscribe", user_id=user_id, lang=lang)
    assert "sub:tier:BASIC:0::0" in button_data(shown[-1])
    periods = await paybot.press("sub:tier:BASIC:0::0", user_id=user_id, lang=lang)
    assert "sub:period:BASIC:1::0" in button_data(periods[-1])
    methods = await paybot.press("sub:period:BASIC:1::0", user_id=user_id, lang=lang)
    assert button_data(methods[-1])[:2] == [PAY_BASIC_1, "sub:pay:BASIC:1:stars_monthly:0"]
    sent = await paybot.press(PAY_BASIC_1, user_id=user_id, lang=lang)
    invoice = next(c for c in sent if c.method == "sendInvoice")
    assert invoice.params["currency"] == "XTR"
    assert invoice.params.get("provider_token", "") == ""
    assert [p["amount"] for p in invoice.params["prices"]] == [250]
    return str(invoice.params["payload"])


async def link_referrer(paybot: PayBot, user_id: int, referrer_id: int) -> None:
    async with paybot.context.sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.telegram_id == user_id).values(referrer_id=referrer_id)
        )


@pytest.mark.parametrize("lang", LANGS)
async def test_stars_purchase_credits_tier_bonus_referrer_and_tells_both(
    paybot: PayBot, clock: FakeClock, lang: str
) -> None:
    other = "en" if lang == "ru" else "ru"
    sessions = paybot.context.sessions
    referrer = await create_user(sessions, language_code=other)
    buyer = await create_user(sessions, language_code=lang)
    await link_referrer(paybot, buyer, referrer)

    payload = await buy_basic_with_stars(paybot, buyer, lang)
    query = paybot.fake.pre_checkout(user_id=buyer, payload=payload, language_code=lang)
    await paybot.feed_queued()
    assert paybot.fake.answers(query) == {"ok": True, "error_message": None}

    paybot.fake.successful_payment(user_id=buyer, payload=payload, language_code=lang)
    sent = await paybot.feed_queued()

    until = "9 Apr 2026" if lang == "en" else "9 апр. 2026"
    t, rt = translator(lang), translator(other)
    assert texts(sent, buyer) == [t("pay-credited", tier="BASIC", until=until, bonus="500")]
    assert texts(sent, referrer) == [
        rt("pay-referrer", amount="1,000" if other == "en" else "1\xa0000")
    ]
    user = await db_user(sessions, buyer)
    assert (user.tier, user.tier_expires_at) == ("BASIC", clock() + timedelta(days=30))
    assert await balance_of(sessions, buyer) == 500
    assert await balance_of(sessions, referrer) == 1000

    # The tier multiplies earnings now: a text answer earns 10 x 1.0 x 1.2 = 12 at level 1.
    await paybot.send("What is a stablecoin?", user_id=buyer, lang=lang)
    rows = await ledger(sessions, buyer)
    assert [(r.transaction_type, r.amount) for r in rows] == [
        ("earn_subscription", 500),
        ("earn_text_request", 12),
    ]
    paybot.assert_clean()


async def test_a_redelivered_successful_payment_credits_once(paybot: PayBot) -> None:
    buyer = await create_user(paybot.context.sessions)
    payload = await buy_basic_with_stars(paybot, buyer, "en")
    paybot.fake.pre_checkout(user_id=buyer, payload=payload)
    await paybot.feed_queued()
    update_json = paybot.fake.successful_payment(user_id=buyer, payload=payload)
    first = await paybot.feed_queued()

    again = await paybot.feed(update_json)  # Telegram delivers the same update again

    assert len(texts(first, buyer)) == 1
    assert texts(again) == []
    assert await balance_of(paybot.context.sessions, buyer) == 500
    assert len(await ledger(paybot.context.sessions, buyer)) == 1
    paybot.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
async def test_checkout_refuses_wrong_price_other_user_expired_and_unknown(
    paybot: PayBot, clock: FakeClock, lang: str
) -> None:
    sessions = paybot.context.sessions
    buyer = await create_user(sessions, language_code=lang)
    stranger = await create_user(sessions, language_code=lang)
    payload = await buy_basic_with_stars(paybot, buyer, lang)
    t = translator(lang)

    cases = [
        (dict(user_id=buyer, payload=payload, amount=1), "price"),
        (dict(user_id=stranger, payload=payload), "user"),
        (dict(user_id=buyer, payload="no-such-offer", amount=250), "unknown"),
    ]
    for kwargs, reason in cases:
        query = paybot.fake.pre_checkout(language_code=lang, **kwargs)  # type: ignore[arg-type]
        await paybot.feed_queued()
        assert paybot.fake.answers(query) == {
            "ok": False,
            "error_message": t(f"checkout-refused-{reason}"),
        }
    clock.advance(minutes=31)
    query = paybot.fake.pre_checkout(user_id=buyer, payload=payload, language_code=lang)
    await paybot.feed_queued()
    assert paybot.fake.answers(query) == {
        "ok": False,
        "error_message": t("checkout-refused-expired"),
    }
    assert await balance_of(sessions, buyer) == 0
    paybot.assert_clean()


async def test_a_payment_that_does_not_match_is_recorded_and_the_user_told(
    paybot: PayBot,
) -> None:
    buyer = await create_user(paybot.context.sessions)
    payload = await buy_basic_with_stars(paybot, buyer, "en")
    paybot.fake.successful_payment(user_id=buyer, payload=payload, amount=249)
    sent = await paybot.feed_queued()
    assert texts(sent, buyer) == [translator("en")("pay-not-credited")]
    assert (await db_user(paybot.context.sessions, buyer)).tier == "FREE"
    summary = await paybot.context.payments.summary()
    assert [(p.status, p.amount) for p in summary.problems] == [("mismatch", Decimal(249))]
    paybot.assert_clean()


async def test_monthly_subscription_renews_and_can_be_turned_off_and_on(
    paybot: PayBot, clock: FakeClock
) -> None:
    sessions = paybot.context.sessions
    buyer = await create_user(sessions)
    await paybot.send("/subscribe", user_id=buyer)
    await paybot.press("sub:tier:VIP:0::0", user_id=buyer)
    await paybot.press("sub:period:VIP:1::0", user_id=buyer)
    sent = await paybot.press("sub:pay:VIP:1:stars_monthly:0", user_id=buyer)
    link = next(c for c in paybot.fake.calls if c.method == "createInvoiceLink")
    assert link.params["subscription_period"] == 2_592_000
    assert [p["amount"] for p in link.params["prices"]] == [1500]
    assert button_data(sent[-1]) == ["https://t.me/$invoice1"]
    payload = str(link.params["payload"])

    paybot.fake.pre_checkout(user_id=buyer, payload=payload)
    await paybot.feed_queued()
    paybot.fake.successful_payment(user_id=buyer, payload=payload)
    await paybot.feed_queued()
    first_end = clock() + timedelta(days=30)
    assert (await db_user(sessions, buyer)).tier_expires_at == first_end

    clock.set(first_end - timedelta(hours=1))
    paybot.fake.successful_payment(user_id=buyer, payload=payload, recurring=True)
    sent = await paybot.feed_queued()
    until = "9 May 2026"
    assert texts(sent, buyer) == [
        translator("en")("pay-renewed", tier="VIP", until=until, bonus="3,000")
    ]
    assert (await db_user(sessions, buyer)).tier_expires_at == first_end + timedelta(days=30)
    assert await balance_of(sessions, buyer) == 6000

    menu = await paybot.send("/subscribe", user_id=buyer)
    assert "sub:renewal::0::0" in button_data(menu[-1])
    off = await paybot.press("sub:renewal::0::0", user_id=buyer)
    edit = next(c for c in off if c.method == "editUserStarSubscription")
    assert edit.params["is_canceled"] is True
    assert paybot.fake.charges[edit.params["telegram_payment_charge_id"]].canceled
    assert "sub:renewal::0::1" in button_data(off[-1])
    on = await paybot.press("sub:renewal::0::1", user_id=buyer)
    assert not paybot.fake.charges[edit.params["telegram_payment_charge_id"]].canceled
    assert "sub:renewal::0::0" in button_data(on[-1])
    paybot.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
async def test_a_lower_plan_is_refused_while_a_higher_one_is_active(
    paybot: PayBot, clock: FakeClock, lang: str
) -> None:

    buyer = await create_user(paybot.context.sessions, language_code=lang)
    await set_tier(paybot.context.sessions, buyer, Tier.VIP, clock() + timedelta(days=10))
    await paybot.send("/subscribe", user_id=buyer, lang=lang)
    refused = await paybot.press("sub:tier:BASIC:0::0", user_id=buyer, lang=lang)
    answer = next(c for c in refused if c.method == "answerCallbackQuery")
    until = "20 Mar 2026" if lang == "en" else "20 мар. 2026"
    assert answer.params["text"] == translator(lang)("sub-downgrade", current="VIP", until=until)
    assert answer.params["show_alert"] is True
    assert await paybot.context.payments.find_pending(Provider.STARS, "x") is None
    paybot.assert_clean()
