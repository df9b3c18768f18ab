"""A local fake of the NOWPayments API, speaking its protocol over HTTP, and its IPN sender.

async with FakeNowPayments(api_key="k", ipn_secret="s") as fake:
    client = NowPaymentsClient(base_url=fake.base_url, api_key="k")
    fake.mode = "error"                 # see Mode below
    fake.invoices[order_id]             # every invoice created, by order_id (their JSON)
    await fake.send_ipn(http, order_id, "finished")   # signed as NOWPayments signs it

Invoices answer as `POST /v1/invoice` does (200 with id, invoice_url, ...); errors as theirs:
`{"status": false, "statusCode": 400, "code": "...", "message": "..."}`, 403 for a bad key.
IPNs carry the payment JSON (payment_id, payment_status, price_amount, actually_paid, ...)
signed in `x-nowpayments-sig`: hex HMAC-SHA512 of the body with its keys sorted, compact.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from decimal import Decimal
from typing import Any, Literal

import httpx
from aiohttp import web

from tests.support.local_server import LocalHttpServer

# ok; error: 500 with their error shape; hang: never answers; not_json: a proxy's HTML page.
Mode = Literal["ok", "error", "hang", "not_json"]


def _error(status: int, code: str, message: str) -> web.Response:
    body = {"status": False, "statusCode": status, "code": code, "message": message}
    return web.json_response(body, status=status)


def js_sorted_json(value: Any) -> str:
    """JSON.stringify of the object with its keys sorted at every depth (their signing)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class FakeNowPayments(LocalHttpServer):
    def __init__(self, *, api_key: str, ipn_secret: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.ipn_secret = ipn_secret
        self.mode: Mode = "ok"
        self.invoices: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self._ids = itertools.count(4_522_625_843)
        self._payment_ids = itertools.count(5_077_125_051)
        self._payment_of: dict[str, int] = {}  # one payment per invoice, through its statuses

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/invoice", self._create_invoice)

    async def _create_invoice(self, request: web.Request) -> web.Response:
        if request.headers.get("x-api-key") != self.api_key:
            return _error(403, "INVALID_API_KEY", "Invalid api key")
        try:
            body: Any = await request.json()
        except ValueError:
            return _error(400, "BAD_CREATE_INVOICE_REQUEST", "Invalid JSON")
        self.requests.append(body)
        if self.mode == "hang":
            import asyncio

            await asyncio.sleep(3600)
        if self.mode == "not_json":
            return web.Response(text="<html>502 Bad Gateway</html>", status=502)
        if self.mode == "error":
            return _error(500, "INTERNAL_ERROR", "Internal server error")
        problem = _invoice_problem(body)
        if problem:
            return _error(400, "BAD_CREATE_INVOICE_REQUEST", problem)
        invoice_id = str(next(self._ids))
        invoice = {
            "id": invoice_id,
            "token_id": f"tok{invoice_id}",
            "order_id": body.get("order_id"),
            "order_description": body.get("order_description"),
            "price_amount": str(body["price_amount"]),
            "price_currency": body["price_currency"],
            "pay_currency": None,
            "ipn_callback_url": body.get("ipn_callback_url"),
            "invoice_url": f"https://nowpayments.io/payment/?iid={invoice_id}",
            "success_url": body.get("success_url"),
            "cancel_url": body.get("cancel_url"),
            "created_at": "2026-03-10T12:00:00.000Z",
            "updated_at": "2026-03-10T12:00:00.000Z",
        }
        self.invoices[str(body.get("order_id"))] = invoice
        return web.json_response(invoice)

    def ipn_body(self, order_id: str, status: str, **fields: Any) -> dict[str, Any]:
        """The payment JSON NOWPayments posts for the invoice of `order_id`."""
        invoice = self.invoices[order_id]
        price = Decimal(invoice["price_amount"])
        if order_id not in self._payment_of:
            self._payment_of[order_id] = next(self._payment_ids)
        body: dict[str, Any] = {
            "payment_id": self._payment_of[order_id],
            "parent_payment_id": None,
            "invoice_id": int(invoice["id"]),
            "payment_status": status,
            "pay_address": "TNDFkiSmBQorNFacb3735q8MnT29sn8BLn",
            "payin_extra_id": None,
            "price_amount": float(price),
            "price_currency": invoice["price_currency"],
            "pay_amount": 15.1234,
            "actually_paid": 15.1234 if status == "finished" else 7.5,
            "actually_paid_at_fiat": 0,
            "pay_currency": "trx",
            "order_id": order_id,
            "order_description": invoice["order_description"],
            "purchase_id": "5312822613",
            "outcome_amount": 14.8106,
            "outcome_currency": "trx",
            "payment_extra_ids": None,
            "fee": {"currency": "trx", "depositFee": 0.1, "withdrawalFee": 0, "serviceFee": 0},
        }
        body.update(fields)
        return body

    def signed(self, body: dict[str, Any], *, secret: str | None = None) -> tuple[bytes, str]:
        """The body as sent (keys in their order, with spaces) and its signature."""
        raw = json.dumps(body).encode()
        key = (secret or self.ipn_secret).encode()
        return raw, hmac.new(key, js_sorted_json(body).encode(), hashlib.sha512).hexdigest()

    async def send_ipn(
        self,
        http: httpx.AsyncClient,
        body: dict[str, Any],
        *,
        signature: str | None = "sign",
    ) -> httpx.Response:
        """POST `body` to its invoice's ipn_callback_url through `http`, signed (or with the
        given signature; None: no header)."""
        raw, good = self.signed(body)
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["x-nowpayments-sig"] = good if signature == "sign" else signature
        url = self.invoices[str(body["order_id"])]["ipn_callback_url"]
        return await http.post(url, content=raw, headers=headers)


def _invoice_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Invalid JSON"
    amount = body.get("price_amount")
    if not isinstance(amount, int | float | str) or isinstance(amount, bool):
        return '"price_amount" is required'
    try:
        if Decimal(str(amount)) <= 0:
            return '"price_amount" must be greater than 0'
    except ArithmeticError:
        return '"price_amount" must be a number'
    if not isinstance(body.get("price_currency"), str):
        return '"price_currency" is required'
    url = body.get("ipn_callback_url")
    if url is not None and not str(url).startswith(("http://", "https://")):
        return '"ipn_callback_url" must be a valid uri'
    return None
