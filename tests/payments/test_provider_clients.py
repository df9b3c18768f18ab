"""The NOWPayments and toncenter clients against their local fakes; the IPN signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from src.services import nowpayments
from src.services.nowpayments import IpnError, NowPaymentsClient, NowPaymentsError
from src.services.toncenter import (
    TonCenterClient,
    TonCenterError,
    from_nano,
    to_nano,
    transfer_link,
)
from tests.support.fake_nowpayments import FakeNowPayments
from tests.support.fake_toncenter import FakeTonCenter

KEY, SECRET = "np-key", "np-ipn-secret"
WALLET = "0:" + "cd" * 32


@pytest.fixture
async def fake_np() -> AsyncIterator[FakeNowPayments]:
    async with FakeNowPayments(api_key=KEY, ipn_secret=SECRET) as fake:
        yield fake


@pytest.fixture
async def fake_ton() -> AsyncIterator[FakeTonCenter]:
    async with FakeTonCenter(api_key="ton-key") as fake:
        yield fake


def invoice_payload(order_id: str = "np-1", amount: str = "4.99") -> dict[str, object]:
    return {
        "price_amount": float(amount),
        "price_currency": "usd",
        "order_id": order_id,
        "order_description": "BASIC, 1 month",
        "ipn_callback_url": "https://pay.example/api/payments/nowpayments",
    }


async def test_an_invoice_has_its_url(fake_np: FakeNowPayments) -> None:
    client = NowPaymentsClient(base_url=fake_np.base_url, api_key=KEY)
    try:
        invoice = await client.create_invoice(invoice_payload())
    finally:
        await client.aclose()
    assert invoice.url == f"https://nowpayments.io/payment/?iid={invoice.id}"
    assert fake_np.invoices["np-1"]["price_amount"] == "4.99"


@pytest.mark.parametrize(
    ("key", "mode", "payload", "says"),
    [
        ("wrong", "ok", invoice_payload(), "refused the API key"),
        (KEY, "ok", {**invoice_payload(), "price_amount": 0}, "BAD_CREATE_INVOICE_REQUEST"),
        (KEY, "error", invoice_payload(), r"HTTP 500\): INTERNAL_ERROR"),
        (KEY, "not_json", invoice_payload(), "HTTP 502"),
    ],
)
async def test_invoice_refusals_are_clear(
    fake_np: FakeNowPayments, key: str, mode: str, payload: dict[str, object], says: str
) -> None:
    fake_np.mode = mode  # type: ignore[assignment]
    client = NowPaymentsClient(base_url=fake_np.base_url, api_key=key)
    try:
        with pytest.raises(NowPaymentsError, match=says):
            await client.create_invoice(payload)
    finally:
        await client.aclose()
    assert fake_np.invoices == {}


async def test_a_hanging_provider_times_out(fake_np: FakeNowPayments) -> None:
    fake_np.mode = "hang"
    client = NowPaymentsClient(base_url=fake_np.base_url, api_key=KEY, timeout=0.3)
    try:
        with pytest.raises(NowPaymentsError, match="unreachable"):
            await client.create_invoice(invoice_payload())
    finally:
        await client.aclose()


def test_signature_is_over_the_sorted_compact_body() -> None:
    body = b'{"b": 1.50, "a": {"z": [1, {"y": 2, "x": 1e-7}], "k": "\xc3\xa9"}, "c": null}'
    canonical = '{"a":{"k":"\xe9","z":[1,{"x":1e-7,"y":2}]},"b":1.50,"c":null}'
    assert nowpayments.canonical_json(body) == canonical
    good = hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha512).hexdigest()
    nowpayments.verify(body, good, SECRET)
    nowpayments.verify(body, good.upper(), SECRET)
    for bad in (None, "", good[:-1] + "0", "x" * 128):
        with pytest.raises(IpnError):
            nowpayments.verify(body, bad, SECRET)
    with pytest.raises(IpnError):
        nowpayments.verify(body, good, "another-secret")
    with pytest.raises(IpnError):
        nowpayments.verify(b"not json", good, SECRET)


def test_the_fakes_signature_verifies(fake_np: FakeNowPayments) -> None:
    fake_np.invoices["o1"] = {
        "id": "1",
        "price_amount": "14.99",
        "price_currency": "usd",
        "order_description": "d",
    }
    raw, signature = fake_np.signed(fake_np.ipn_body("o1", "finished"))
    nowpayments.verify(raw, signature, SECRET)
    notice = nowpayments.parse_notice(raw)
    assert (notice.status, notice.order_id, notice.price_amount, notice.price_currency) == (
        "finished",
        "o1",
        Decimal("14.99"),
        "USD",
    )
    with pytest.raises(IpnError, match="order_id"):
        nowpayments.parse_notice(json.dumps({**json.loads(raw), "order_id": None}).encode())


def test_nanotons_and_the_transfer_link() -> None:
    assert to_nano(Decimal("1")) == 1_000_000_000
    assert to_nano(Decimal("2.7")) == 2_700_000_000
    assert to_nano(Decimal("0.0000000001")) == 1  # never less than the price
    assert from_nano(2_700_000_000) == Decimal("2.7")
    assert transfer_link("EQabc", 3_000_000_000, "syn 7/ab") == (
        "ton://transfer/EQabc?amount=3000000000&text=syn%207%2Fab"
    )


async def test_toncenter_reads_from_a_logical_time_on(fake_ton: FakeTonCenter) -> None:
    first = fake_ton.transfer(WALLET, value_nano=10**9, comment="ref-1")
    fake_ton.transfer(WALLET, value_nano=5, comment=None, bounced=True)
    fake_ton.outgoing(WALLET)
    fake_ton.transfer("0:" + "ee" * 32, value_nano=10**9, comment="elsewhere")
    client = TonCenterClient(base_url=fake_ton.base_url, api_key="ton-key")
    try:
        all_three = await client.transactions(WALLET, start_lt=0, limit=10)
        later = await client.transactions(WALLET, start_lt=int(first["lt"]) + 1, limit=1)
    finally:
        await client.aclose()
    assert [t.comment for t in all_three] == ["ref-1", None, None]
    paid, bounced, ours = all_three
    assert (paid.incoming, paid.value_nano, paid.bounced, paid.hash) == (
        True,
        10**9,
        False,
        first["hash"],
    )
    assert bounced.bounced and not ours.incoming
    assert [t.lt for t in later] == [bounced.lt]
    assert fake_ton.requests[-1]["sort"] == "asc"


@pytest.mark.parametrize(
    ("key", "mode"), [("bad", "ok"), ("ton-key", "error"), ("ton-key", "rate_limited")]
)
async def test_toncenter_refusals(fake_ton: FakeTonCenter, key: str, mode: str) -> None:
    fake_ton.mode = mode  # type: ignore[assignment]
    client = TonCenterClient(base_url=fake_ton.base_url, api_key=key)
    try:
        with pytest.raises(TonCenterError, match="HTTP"):
            await client.transactions(WALLET, start_lt=0, limit=10)
    finally:
        await client.aclose()
