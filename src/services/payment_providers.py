"""The seam every external payment method plugs into (NOWPayments, TON).

A `Gateway` turns a pending purchase into something the user can pay (an `Invoice` whose URL
is shown as a button); the provider's confirmation comes back later (an IPN, a poller) and
ends in `PaymentService.complete_purchase`. Gateways are built by
`payment_assembly.build_gateways(settings)` (only the configured ones) and closed by
`AppContext.close()`. Telegram Stars needs no gateway: the bot sends the invoice itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from src.services.payment_types import PendingPurchase, Provider


@dataclass(frozen=True, slots=True)
class Invoice:
    url: str  # shown to the user as a URL button
    amount: Decimal | None = None  # what to pay, in `currency`, if the method says so
    currency: str | None = None
    provider_invoice_id: str | None = None
    # A transfer the user makes by hand (TON): where to, with which comment, and the
    # wallet-neutral link (ton://transfer/...), shown under the button.
    address: str | None = None
    comment: str | None = None
    transfer_link: str | None = None


class Gateway(Protocol):
    provider: Provider

    async def create_invoice(self, purchase: PendingPurchase, *, language: str) -> Invoice: ...

    async def aclose(self) -> None: ...


class GatewayError(RuntimeError):
    """The provider could not make an invoice now; the user is told to try again."""
