"""The NOWPayments and TON gateways: a pending purchase → an invoice the user can pay.

NOWPayments: one `POST /invoice` per purchase, `order_id` = the purchase's reference, the
price in USD, the IPN sent to `{PUBLIC_BASE_URL}/api/payments/nowpayments`; the user opens
`invoice_url`. The invoice is remembered per purchase, so pressing the button again shows the
same invoice instead of making a second one; a refusal is a GatewayError (the user is told to
try again; nothing is created).

TON: no call at all. The invoice is the price in nanotons and the purchase's reference as the
transfer comment; the button opens the wallet with both filled in (Tonkeeper's universal
`https://app.tonkeeper.com/transfer/...` link: Telegram buttons take only http(s) and tg://
links), and the invoice carries the `ton://transfer/...` link for any other wallet.
"""

from __future__ import annotations

from collections import OrderedDict
from urllib.parse import quote, urlencode

import structlog

from src.services.nowpayments import NowPaymentsClient, NowPaymentsError
from src.services.payment_providers import GatewayError, Invoice
from src.services.payment_types import PendingPurchase, Provider
from src.services.toncenter import from_nano, to_nano, transfer_link

log = structlog.get_logger(__name__)

IPN_PATH = "/api/payments/nowpayments"
RETURN_PATH = "/api/payments/nowpayments/return"
MAX_REMEMBERED = 10_000


class NowPaymentsGateway:
    provider = Provider.NOWPAYMENTS

    def __init__(self, *, client: NowPaymentsClient, public_base_url: str) -> None:
        self._client = client
        self._base = public_base_url.rstrip("/")
        self._invoices: OrderedDict[str, Invoice] = OrderedDict()

    async def create_invoice(self, purchase: PendingPurchase, *, language: str) -> Invoice:
        known = self._invoices.get(purchase.reference)
        if known is not None:
            return known
        months = "month" if purchase.months == 1 else "months"
        payload = {
            "price_amount": float(purchase.price),
            "price_currency": purchase.currency.lower(),
            "order_id": purchase.reference,
            "order_description": f"Syntra {purchase.tier}, {purchase.months} {months}",
            "ipn_callback_url": f"{self._base}{IPN_PATH}",
            "success_url": f"{self._base}{RETURN_PATH}",
            "cancel_url": f"{self._base}{RETURN_PATH}",
        }
        try:
            made = await self._client.create_invoice(payload)
        except NowPaymentsError as exc:
            log.warning("nowpayments invoice refused", reason=str(exc), ref=purchase.reference)
            raise GatewayError(str(exc)) from None
        invoice = Invoice(
            url=made.url,
            amount=purchase.price,
            currency=purchase.currency,
            provider_invoice_id=made.id,
        )
        self._invoices[purchase.reference] = invoice
        if len(self._invoices) > MAX_REMEMBERED:
            self._invoices.popitem(last=False)
        log.info("nowpayments invoice", ref=purchase.reference, invoice_id=made.id)
        return invoice

    async def aclose(self) -> None:
        await self._client.aclose()


def tonkeeper_link(address: str, nano: int, comment: str) -> str:
    query = urlencode({"amount": str(nano), "text": comment}, quote_via=quote)
    return f"https://app.tonkeeper.com/transfer/{address}?{query}"


class TonGateway:
    provider = Provider.TON

    def __init__(self, *, wallet: str) -> None:
        self.wallet = wallet

    async def create_invoice(self, purchase: PendingPurchase, *, language: str) -> Invoice:
        nano = to_nano(purchase.price)
        return Invoice(
            url=tonkeeper_link(self.wallet, nano, purchase.reference),
            amount=from_nano(nano),
            currency="TON",
            address=self.wallet,
            comment=purchase.reference,
            transfer_link=transfer_link(self.wallet, nano, purchase.reference),
        )

    async def aclose(self) -> None:
        return None
