"""Plain data of the purchase side (SPEC 9), as PaymentService hands it up: never ORM rows.

Gateways (src/services/payment_providers.py), handlers, API routes and views all speak these
types. Money is `Decimal` in the provider's currency (Stars: whole stars, "XTR").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Provider(StrEnum):
    STARS = "stars"
    NOWPAYMENTS = "nowpayments"
    TON = "ton"


class PurchaseStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"


class CompletionStatus(StrEnum):
    CREDITED = "credited"  # tier extended, bonuses paid (now, or by an earlier delivery)
    DUPLICATE = "duplicate"  # this provider payment was handled before: nothing changed now
    MISMATCH = "mismatch"  # amount or currency differ from the offer: recorded, not credited
    EXPIRED = "expired"  # paid after the offer expired: recorded, not credited
    UNKNOWN_PURCHASE = "unknown_purchase"  # no offer with that reference: recorded


class RefundStatus(StrEnum):
    REFUNDED = "refunded"
    ALREADY_REFUNDED = "already_refunded"
    UNKNOWN_PAYMENT = "unknown_payment"
    NOT_CREDITED = "not_credited"  # a mismatched/expired payment: nothing to take back


@dataclass(frozen=True, slots=True)
class PendingPurchase:
    id: int
    user_id: int
    tier: str
    months: int
    provider: Provider
    price: Decimal
    currency: str
    reference: str  # unique: Stars invoice payload, NOWPayments order_id, TON comment
    expires_at: datetime
    status: PurchaseStatus
    recurring: bool = False  # a Stars monthly subscription


@dataclass(frozen=True, slots=True)
class Party:
    """Someone to tell about a payment, in their language."""

    user_id: int
    language: str


@dataclass(frozen=True, slots=True)
class CompletionOutcome:
    status: CompletionStatus
    purchase: PendingPurchase | None
    payment_id: int | None  # our payments.id
    bonus_credited: int  # points paid to the buyer by this call (0 on a duplicate)
    referrer_bonus_credited: int  # points paid to the referrer by this call
    tier: str | None = None  # the user's tier and expiry after this payment
    tier_expires_at: datetime | None = None
    buyer: Party | None = None
    referrer: Party | None = None
    renewal: bool = False  # a Stars subscription's monthly renewal

    @property
    def credited(self) -> bool:
        return self.status is CompletionStatus.CREDITED


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """A non-crediting status kept (partially_paid, underpaid, ...), and whom it concerns."""

    event_id: int
    purchase: PendingPurchase | None
    buyer: Party | None


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    status: RefundStatus
    payment_id: int | None
    user: Party | None = None
    clawed_back: int = 0  # bonus points taken back now
    unrecovered: int = 0  # bonus points the balance could not cover (recorded for admins)
    tier: str | None = None  # the user's tier and expiry after the refund
    tier_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CheckoutVerdict:
    """The answer to Telegram's pre_checkout_query: ok, or the reason (a text key) why not."""

    ok: bool
    reason: str | None = None  # "expired", "price", "user", "unknown", "paid"


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """What /subscribe shows: the effective tier, its expiry, an active Stars subscription."""

    tier: str
    expires_at: datetime | None
    stars_subscription: PendingPurchase | None = None
    stars_subscription_canceled: bool = False
    stars_charge_id: str | None = None


class PaymentError(Exception):
    """A purchase that cannot be offered; `code` names the reason for the user's text."""

    code = "payment-error"


class DowngradeRefusedError(PaymentError):
    code = "downgrade"

    def __init__(self, current: str, requested: str, expires_at: datetime) -> None:
        super().__init__(f"{requested} refused: {current} is active until {expires_at}")
        self.current = current
        self.requested = requested
        self.expires_at = expires_at


class PlanUnavailableError(PaymentError):
    code = "plan"
