"""NOWPayments: the invoice API client and the IPN (payment callback) check.

Invoices: `POST {base}/invoice` with the `x-api-key` header; the answer's `invoice_url` is the
page where the user picks a coin and pays. NOWPayments then POSTs IPNs (JSON) to our
`ipn_callback_url` on every status change, signed in `x-nowpayments-sig`: the hex HMAC-SHA512,
keyed with the IPN secret, of the body re-serialised with its keys sorted (recursively) and no
whitespace, as JavaScript's `JSON.stringify` writes it. We re-serialise numbers exactly as they
arrived (never through a float), so `1.50` or `1e-7` sign the way the sender signed them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "x-nowpayments-sig"
# Their IPN statuses; only FINISHED means the whole price arrived.
FINISHED = "finished"
PARTIALLY_PAID = "partially_paid"
REFUNDED = "refunded"
STATUSES = frozenset(
    {
        "waiting",
        "confirming",
        "confirmed",
        "sending",
        PARTIALLY_PAID,
        FINISHED,
        "failed",
        REFUNDED,
        "expired",
    }
)


class NowPaymentsError(RuntimeError):
    """The invoice API refused or could not be reached; `message` is safe to log."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class IpnError(ValueError):
    """A signed IPN we cannot understand (the route answers 400)."""


class SignatureError(IpnError):
    """An IPN without a valid signature (the route answers 401, nothing is written)."""


@dataclass(frozen=True, slots=True)
class NowInvoice:
    id: str
    url: str


@dataclass(frozen=True, slots=True)
class IpnNotice:
    """One verified IPN: what the payment is, which purchase, how much."""

    payment_id: str
    status: str
    order_id: str
    price_amount: Decimal
    price_currency: str  # upper case, as our prices are kept ("USD")
    actually_paid: Decimal | None
    pay_currency: str | None
    raw: Mapping[str, Any]


class _Raw(str):
    """A JSON number kept as the text it arrived as."""


def _canonical(value: Any) -> str:
    if isinstance(value, dict):
        items = (
            f"{json.dumps(k, ensure_ascii=False)}:{_canonical(value[k])}" for k in sorted(value)
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, _Raw):
        return str.__str__(value)
    return json.dumps(value, ensure_ascii=False)


def canonical_json(body: bytes) -> str:
    """The text NOWPayments signs: keys sorted at every depth, compact, numbers untouched."""
    parsed = json.loads(body, parse_float=_Raw, parse_int=_Raw)
    return _canonical(parsed)


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), canonical_json(body).encode(), hashlib.sha512).hexdigest()


def verify(body: bytes, signature: str | None, secret: str) -> None:
    """Raise SignatureError unless `signature` is the body's signature under `secret`."""
    if not signature:
        raise SignatureError("missing signature")
    try:
        expected = sign(body, secret)
    except (ValueError, RecursionError):
        raise SignatureError("body is not JSON") from None
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise SignatureError("bad signature")


def _decimal(value: Any, name: str, *, required: bool = True) -> Decimal | None:
    if value is None and not required:
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise IpnError(f"{name} is not a number") from None
    if not amount.is_finite():
        raise IpnError(f"{name} is not a number")
    return amount


def parse_notice(body: bytes) -> IpnNotice:
    """A verified body as an IpnNotice; IpnError when a field we rely on is missing."""
    raw = json.loads(body)
    if not isinstance(raw, dict):
        raise IpnError("body is not an object")
    for name in ("payment_id", "payment_status", "order_id", "price_amount", "price_currency"):
        if raw.get(name) in (None, ""):
            raise IpnError(f"{name} is missing")
    price = _decimal(raw["price_amount"], "price_amount")
    assert price is not None
    pay_currency = raw.get("pay_currency")
    return IpnNotice(
        payment_id=str(raw["payment_id"]),
        status=str(raw["payment_status"]),
        order_id=str(raw["order_id"]),
        price_amount=price,
        price_currency=str(raw["price_currency"]).upper(),
        actually_paid=_decimal(raw.get("actually_paid"), "actually_paid", required=False),
        pay_currency=str(pay_currency) if pay_currency else None,
        raw=raw,
    )


class NowPaymentsClient:
    """The invoice API. One client per process (built in bootstrap, closed with the context)."""

    def __init__(self, *, base_url: str, api_key: str, timeout: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            timeout=timeout, headers={"x-api-key": api_key, "Content-Type": "application/json"}
        )

    async def create_invoice(self, payload: Mapping[str, Any]) -> NowInvoice:
        """POST /invoice once (never retried: a retry after a lost answer would make a second
        invoice); NowPaymentsError on any refusal or failure."""
        try:
            response = await self._http.post(f"{self._base}/invoice", json=dict(payload))
        except httpx.HTTPError as exc:
            raise NowPaymentsError(f"NOWPayments unreachable: {type(exc).__name__}") from None
        body = _json_or_none(response)
        if response.status_code >= 400 or not isinstance(body, dict):
            raise _refusal(response.status_code, body)
        invoice_id, url = body.get("id"), body.get("invoice_url")
        if not invoice_id or not isinstance(url, str) or not url.startswith("https://"):
            raise NowPaymentsError("NOWPayments answered without an invoice_url")
        return NowInvoice(id=str(invoice_id), url=url)

    async def aclose(self) -> None:
        await self._http.aclose()


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _refusal(status: int, body: Any) -> NowPaymentsError:
    """Their error body: {"status": false, "statusCode": 400, "code": "...", "message": "..."}."""
    code = message = None
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else None
        message = body.get("message") if isinstance(body.get("message"), str) else None
    if status in (401, 403):
        text = "NOWPayments refused the API key"
    else:
        text = f"NOWPayments refused the invoice (HTTP {status})"
    detail = ": ".join(part for part in (code, message) if part)
    return NowPaymentsError(f"{text}{': ' + detail if detail else ''}", status=status, code=code)
