"""/subscribe → plan → period → 💎 TON or NOWPayments, through the production dispatcher; the
payment arrives (a transfer the poller finds, an IPN the API verifies); tier, bonus, referrer
bonus and messages in each person's language; a text answer then earns with the multiplier."""

from __future__ import annotations

import pytest
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup

from src.bootstrap import AppContext
from src.locales import translator
from src.services.ton_poller import JOB_NAME
from tests.bot.helpers import LANGS, balance_of, db_user
from tests.conftest import ContextFactory, harness_for
from tests.payments.conftest import WALLET, Api, referred_buyer
from tests.support.clock import FakeClock
from tests.support.fake_nowpayments import FakeNowPayments
from tests.support.fake_toncenter import FakeTonCenter
from tests.support.telegram import BotHarness, buttons

NANO = 10**9


async def choose(harness: BotHarness, user_id: int, lang: str, tier: str, months: int) -> list[str]:
    """Walk /subscribe to the methods of `tier` x `months`; their callback data."""
    await harness.send("/subscribe", user_id=user_id, language_code=lang)
    await harness.press(f"sub:tier:{tier}:0::0", user_id=user_id, language_code=lang)
    shown = await harness.press(
        f"sub:period:{tier}:{months}::0", user_id=user_id, language_code=lang
    )
    return [data for r in shown for _, data in buttons(r)]


def invoice_message(sent: list[object]) -> SendMessage:
    (message,) = [r for r in sent if isinstance(r, SendMessage)]
    return message


def url_of(message: SendMessage) -> str:
    markup = message.reply_markup
    assert isinstance(markup, InlineKeyboardMarkup)
    (url,) = [b.url for row in markup.inline_keyboard for b in row]
    assert url is not None
    return url


async def earns_with_the_tier(harness: BotHarness, user_id: int, lang: str) -> int:
    before = await balance_of(harness.dispatcher["context"].sessions, user_id)
    await harness.send("What is a stop-loss?", user_id=user_id, language_code=lang)
    return await balance_of(harness.dispatcher["context"].sessions, user_id) - before


@pytest.mark.parametrize("lang", LANGS)
async def test_ton_from_the_button_to_the_tier(
    pay_context: AppContext,
    harness: BotHarness,
    fake_ton: FakeTonCenter,
    clock: FakeClock,
    lang: str,
) -> None:
    buyer = await referred_buyer(harness, lang)
    t = translator(lang)
    methods = await choose(harness, buyer.id, lang, "BASIC", 1)
    assert "sub:pay:BASIC:1:ton:0" in methods and "sub:pay:BASIC:1:nowpayments:0" in methods
    sent = await harness.press("sub:pay:BASIC:1:ton:0", user_id=buyer.id, language_code=lang)
    message = invoice_message(sent)
    url = url_of(message)
    assert url.startswith(f"https://app.tonkeeper.com/transfer/{WALLET}?amount=1000000000&text=to")
    comment = url.split("text=")[1]
    assert f"<code>{comment}</code>" in message.text and f"<code>{WALLET}</code>" in message.text
    assert f"ton://transfer/{WALLET}?amount=1000000000&amp;text={comment}" in message.text

    fake_ton.transfer(WALLET, value_nano=NANO, comment=comment)
    assert await pay_context.jobs.run_once(JOB_NAME)

    told = [r for r in harness.session.take() if isinstance(r, SendMessage)]
    until = "9 Apr 2026" if lang == "en" else "9 апр. 2026"
    assert (told[0].chat_id, told[0].text) == (
        buyer.id,
        t("pay-credited", tier="BASIC", until=until, bonus="500"),
    )
    amount = "1,000" if lang == "en" else "1\xa0000"
    assert (told[1].chat_id, told[1].text) == (buyer.referrer, t("pay-referrer", amount=amount))
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "BASIC"
    clock.advance(seconds=10)
    assert await earns_with_the_tier(harness, buyer.id, lang) == 12  # 10 x 1.0 x 1.2


@pytest.mark.parametrize("lang", LANGS)
async def test_nowpayments_from_the_button_to_the_tier(
    pay_context: AppContext, harness: BotHarness, fake_np: FakeNowPayments, api: Api, lang: str
) -> None:
    buyer = await referred_buyer(harness, lang)
    t = translator(lang)
    await choose(harness, buyer.id, lang, "VIP", 3)
    sent = await harness.press("sub:pay:VIP:3:nowpayments:0", user_id=buyer.id, language_code=lang)
    url = url_of(invoice_message(sent))
    ((order_id, invoice),) = fake_np.invoices.items()
    assert url == invoice["invoice_url"] and invoice["price_amount"] == "83.99"

    answer = await fake_np.send_ipn(api.client, fake_np.ipn_body(order_id, "finished"))
    assert answer.json()["result"] == "credited"
    told = {r.chat_id: r.text for r in api.session.take() if isinstance(r, SendMessage)}
    until = "8 Jun 2026" if lang == "en" else "8 июн. 2026"
    bonus = "9,000" if lang == "en" else "9\xa0000"
    assert told[buyer.id] == t("pay-credited", tier="VIP", until=until, bonus=bonus)
    assert buyer.referrer in told
    assert (await db_user(pay_context.sessions, buyer.id)).tier == "VIP"


async def test_gateway_failure_tells_the_user_and_creates_nothing(
    pay_context: AppContext, harness: BotHarness, fake_np: FakeNowPayments
) -> None:
    buyer = await referred_buyer(harness)
    await choose(harness, buyer.id, "en", "BASIC", 1)
    fake_np.mode = "error"
    sent = await harness.press("sub:pay:BASIC:1:nowpayments:0", user_id=buyer.id)
    assert invoice_message(sent).text == translator("en")("sub-gateway-failed")
    assert fake_np.invoices == {}


async def test_methods_not_configured_are_not_offered(make_context: ContextFactory) -> None:
    harness = harness_for(make_context())
    await harness.send("/start", user_id=4242)
    methods = await choose(harness, 4242, "en", "BASIC", 1)
    assert not any(m.endswith((":ton:0", ":nowpayments:0")) for m in methods)
