"""What a verified NOWPayments IPN does (the route in src/api/routes/payments.py calls this).

Every status is recorded (PaymentService.record_payment_event, an audit trail of what the
provider said and when). Then:

- `finished`: `complete_purchase` keyed by their `payment_id`, with the invoice's
  `price_amount` in `price_currency` (what the invoice asked in our currency; `actually_paid`
  is in the coin the user chose and stays in the raw record). It credits once; a redelivery is
  a duplicate; an amount or currency that is not the offer's, or an expired offer, is
  recorded and not credited;
- `partially_paid`: the user is told how much arrived and that the purchase waits for the
  rest (NOWPayments then sends `finished` if the rest comes);
- `refunded`: PaymentService.refund ends the span and claws the bonus back;
- anything else (waiting, confirming, confirmed, sending, failed, expired): recorded only.

The work is bounded (PROCESS_SECONDS): NOWPayments expects an answer within seconds and
resends an IPN it did not get a 200 for. Work that overruns keeps running to its end (it is
never cut mid-transaction); the late answer makes them resend, which is then a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import structlog

from src.services import nowpayments as np
from src.services.payment_service import PaymentService
from src.services.payment_types import (
    CompletionOutcome,
    CompletionStatus,
    EventOutcome,
    Provider,
    RefundOutcome,
    RefundStatus,
)

log = structlog.get_logger(__name__)

PROCESS_SECONDS = 2.5


class PaymentNotices(Protocol):
    """Who tells users what happened to their payment (src/bot/payment_notifier.py, built
    with the Bot of the process that received the news)."""

    async def completed(self, outcome: CompletionOutcome) -> None: ...

    async def refunded(self, outcome: RefundOutcome) -> None: ...

    async def incomplete(self, outcome: EventOutcome, *, status: str) -> None: ...


class IpnTimeoutError(RuntimeError):
    """The IPN's work did not finish in time; it goes on, the provider will resend."""


class NowPaymentsIpn:
    def __init__(self, *, payments: PaymentService, ipn_secret: str) -> None:
        self._payments = payments
        self._secret = ipn_secret
        self._running: set[asyncio.Task[str]] = set()

    def verified(self, body: bytes, signature: str | None) -> np.IpnNotice:
        """The notice behind a correctly signed body; IpnError otherwise (nothing written)."""
        np.verify(body, signature, self._secret)
        return np.parse_notice(body)

    async def process(self, notice: np.IpnNotice, notices: PaymentNotices | None) -> str:
        """Record and act on `notice` within PROCESS_SECONDS; what happened, in a word."""
        task = asyncio.create_task(self._process(notice, notices))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(task), PROCESS_SECONDS)
        except TimeoutError:
            log.warning("nowpayments ipn still running", payment_id=notice.payment_id)
            raise IpnTimeoutError(notice.payment_id) from None

    async def _process(self, notice: np.IpnNotice, notices: PaymentNotices | None) -> str:
        event = await self._payments.record_payment_event(
            provider=Provider.NOWPAYMENTS,
            provider_payment_id=notice.payment_id,
            reference=notice.order_id,
            status=notice.status,
            amount=notice.actually_paid,
            currency=notice.pay_currency,
            raw=notice.raw,
        )
        if notice.status == np.FINISHED:
            outcome = await self._payments.complete_purchase(
                provider=Provider.NOWPAYMENTS,
                provider_payment_id=notice.payment_id,
                reference=notice.order_id,
                amount=notice.price_amount,
                currency=notice.price_currency,
                raw=notice.raw,
            )
            if outcome.status is not CompletionStatus.DUPLICATE and notices is not None:
                await notices.completed(outcome)
            return outcome.status.value
        if notice.status == np.REFUNDED:
            refund = await self._payments.refund(
                provider=Provider.NOWPAYMENTS,
                provider_payment_id=notice.payment_id,
                raw=notice.raw,
            )
            if refund.status is RefundStatus.REFUNDED and notices is not None:
                await notices.refunded(refund)
            return refund.status.value
        if notice.status == np.PARTIALLY_PAID and notices is not None:
            await notices.incomplete(event, status=notice.status)
        return "recorded"

    async def aclose(self) -> None:
        """Let IPNs still at work finish (shutdown)."""
        for task in list(self._running):
            with contextlib.suppress(Exception):
                await task
