"""Telegram Stars for the Bot API fake (tests/support/fake_telegram.py), as Telegram speaks it.

Methods (https://core.telegram.org/bots/api#payments, .../bots/payments-stars):
- sendInvoice / createInvoiceLink: currency "XTR" takes an empty (or no) provider_token and
  exactly one price; `subscription_period` only with XTR and only 2592000 (30 days), and a
  subscription costs at most 10000 Stars; title 1-32, description 1-255 characters, payload
  1-128 bytes. sendInvoice answers a Message with an `invoice`; createInvoiceLink a t.me link.
- answerPreCheckoutQuery: once per query, within 10 s of the query (later: Telegram's "query is
  too old" error); `ok=false` needs an error_message.
- refundStarPayment: the charge must exist and belong to the user; a second refund gets
  CHARGE_ALREADY_REFUNDED.
- editUserStarSubscription: the charge must be a subscription payment of that user.

Test API: `pre_checkout(...)` queues a pre_checkout_query for an invoice the bot made (or for
any payload/amount, to test refusals); `successful_payment(...)` / `renewal(...)` /
`refunded_payment(...)` queue the service messages Telegram sends.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

PRE_CHECKOUT_TIMEOUT = 10.0  # seconds Telegram waits for answerPreCheckoutQuery
SUBSCRIPTION_PERIOD = 2_592_000
MAX_SUBSCRIPTION_STARS = 10_000
TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def _refuse(description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": 400, "description": description}, status=400
    )


@dataclass
class Charge:
    charge_id: str
    user_id: int
    amount: int
    payload: str
    subscription: bool
    refunded: bool = False
    canceled: bool = False


class StarsPayments:
    """Mixed into FakeTelegram: invoices, pre-checkout queries, charges, refunds."""

    def _init_payments(self) -> None:
        self.invoices: dict[str, dict[str, Any]] = {}  # by payload
        self.pre_checkouts: dict[str, dict[str, Any]] = {}  # by query id: asked_at, answer
        self.charges: dict[str, Charge] = {}
        self._query_ids = itertools.count(1)
        self._charge_ids = itertools.count(1)

    # ------------------------------------------------------------------ the methods

    def _invoice_refusal(self, params: dict[str, Any]) -> str | None:
        title, description = str(params.get("title") or ""), str(params.get("description") or "")
        payload = str(params.get("payload") or "")
        prices = params.get("prices")
        if not 1 <= len(title) <= 32:
            return "Bad Request: INVOICE_TITLE_INVALID"
        if not 1 <= len(description) <= 255:
            return "Bad Request: INVOICE_DESCRIPTION_INVALID"
        if not 1 <= len(payload.encode()) <= 128:
            return "Bad Request: INVOICE_PAYLOAD_INVALID"
        if not isinstance(prices, list) or not prices:
            return "Bad Request: can't parse prices JSON object"
        if any(not isinstance(p, dict) or int(p.get("amount", 0)) <= 0 for p in prices):
            return "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID"
        period = params.get("subscription_period")
        if params.get("currency") == "XTR":
            if params.get("provider_token"):
                return "Bad Request: PAYMENT_PROVIDER_INVALID"
            if len(prices) != 1:
                return "Bad Request: STARS_INVOICE_INVALID"
        elif period is not None:
            return "Bad Request: SUBSCRIPTION_PERIOD_INVALID"
        if period is not None and (
            int(period) != SUBSCRIPTION_PERIOD or int(prices[0]["amount"]) > MAX_SUBSCRIPTION_STARS
        ):
            return "Bad Request: SUBSCRIPTION_PERIOD_INVALID"
        return None

    def _keep_invoice(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        invoice = {
            "title": params["title"],
            "description": params["description"],
            "start_parameter": "",
            "currency": params["currency"],
            "total_amount": sum(int(p["amount"]) for p in params["prices"]),
        }
        self.invoices[str(params["payload"])] = {
            **invoice,
            "kind": kind,
            "chat_id": params.get("chat_id"),
            "subscription_period": params.get("subscription_period"),
        }
        return invoice

    async def _m_sendinvoice(self, params: dict[str, Any]) -> Any:
        if (refusal := self._invoice_refusal(params)) is not None:
            return _refuse(refusal)
        if params.get("subscription_period") is not None:
            return _refuse("Bad Request: SUBSCRIPTION_PERIOD_INVALID")  # links only
        invoice = self._keep_invoice(params, "message")
        return self._message(params, invoice=invoice)  # type: ignore[attr-defined]

    async def _m_createinvoicelink(self, params: dict[str, Any]) -> Any:
        if (refusal := self._invoice_refusal(params)) is not None:
            return _refuse(refusal)
        self._keep_invoice(params, "link")
        return f"https://t.me/$invoice{len(self.invoices)}"

    async def _m_answerprecheckoutquery(self, params: dict[str, Any]) -> Any:
        query = self.pre_checkouts.get(str(params.get("pre_checkout_query_id")))
        if query is None or "answer" in query:
            return _refuse(TOO_OLD)
        if time.monotonic() - query["asked_at"] > PRE_CHECKOUT_TIMEOUT:
            return _refuse(TOO_OLD)
        ok = params.get("ok") in (True, "true")
        if not ok and not params.get("error_message"):
            return _refuse("Bad Request: ERROR_MESSAGE_EMPTY")
        query["answer"] = {"ok": ok, "error_message": params.get("error_message")}
        return True

    async def _m_refundstarpayment(self, params: dict[str, Any]) -> Any:
        charge = self.charges.get(str(params.get("telegram_payment_charge_id")))
        if charge is None or charge.user_id != int(params.get("user_id") or 0):
            return _refuse("Bad Request: CHARGE_NOT_FOUND")
        if charge.refunded:
            return _refuse("Bad Request: CHARGE_ALREADY_REFUNDED")
        charge.refunded = True
        return True

    async def _m_edituserstarsubscription(self, params: dict[str, Any]) -> Any:
        charge = self.charges.get(str(params.get("telegram_payment_charge_id")))
        if charge is None or not charge.subscription or charge.user_id != int(params["user_id"]):
            return _refuse("Bad Request: CHARGE_NOT_FOUND")
        charge.canceled = params.get("is_canceled") in (True, "true")
        return True

    # ------------------------------------------------------------------ what users do

    def _payer(self, user_id: int, language_code: str) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"U{user_id}",
            "language_code": language_code,
        }

    def pre_checkout(
        self,
        *,
        user_id: int,
        payload: str,
        amount: int | None = None,
        currency: str = "XTR",
        language_code: str = "en",
        age: float = 0.0,
    ) -> str:
        """The user pressed Pay: a pre_checkout_query update; its id. `age` makes it that many
        seconds old already (a slow answer)."""
        invoice = self.invoices.get(payload, {})
        query_id = f"pcq{next(self._query_ids)}"
        self.pre_checkouts[query_id] = {"asked_at": time.monotonic() - age}
        self.push_update(  # type: ignore[attr-defined]
            {
                "pre_checkout_query": {
                    "id": query_id,
                    "from": self._payer(user_id, language_code),
                    "currency": currency,
                    "total_amount": amount if amount is not None else invoice["total_amount"],
                    "invoice_payload": payload,
                }
            }
        )
        return query_id

    def successful_payment(
        self,
        *,
        user_id: int,
        payload: str,
        amount: int | None = None,
        language_code: str = "en",
        charge_id: str | None = None,
        recurring: bool = False,
    ) -> dict[str, Any]:
        """Telegram's service message after a payment (a renewal with `recurring=True`)."""
        invoice = self.invoices.get(payload, {})
        total = amount if amount is not None else invoice["total_amount"]
        subscription = invoice.get("subscription_period") is not None
        charge = charge_id or f"stxCHARGE{next(self._charge_ids)}"
        self.charges[charge] = Charge(charge, user_id, total, payload, subscription)
        paid: dict[str, Any] = {
            "currency": "XTR",
            "total_amount": total,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge,
            "provider_payment_charge_id": "",
        }
        if subscription:
            paid["subscription_expiration_date"] = int(time.time()) + SUBSCRIPTION_PERIOD
            paid["is_recurring" if recurring else "is_first_recurring"] = True
        return self._service_message(user_id, language_code, successful_payment=paid)

    def refunded_payment(
        self, *, user_id: int, charge_id: str, language_code: str = "en"
    ) -> dict[str, Any]:
        charge = self.charges[charge_id]
        refunded = {
            "currency": "XTR",
            "total_amount": charge.amount,
            "invoice_payload": charge.payload,
            "telegram_payment_charge_id": charge_id,
        }
        return self._service_message(user_id, language_code, refunded_payment=refunded)

    def _service_message(self, user_id: int, language_code: str, **fields: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._user_message_ids),  # type: ignore[attr-defined]
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": f"U{user_id}"},
            "from": self._payer(user_id, language_code),
            **fields,
        }
        return self.push_update({"message": message})  # type: ignore[attr-defined,no-any-return]

    def answers(self, query_id: str) -> dict[str, Any] | None:
        return self.pre_checkouts.get(query_id, {}).get("answer")


def json_field(value: Any) -> Any:
    """What aiogram sent as a JSON string, parsed (prices, reply_markup)."""
    return json.loads(value) if isinstance(value, str) else value
