"""The TON poller: finds the transfers that pay for purchases in our wallet's transactions.

A PeriodicJob (`ton_poller`, every TON_POLL_SECONDS, one run at a time across workers by its
advisory lock). Each run reads the wallet's transactions from the saved logical time on,
oldest first, a page at a time, and for each one decides:

- not an incoming transfer (our own outgoing transfer, an external message), bounced, aborted,
  or without a comment: logged, nothing else (no purchase can be named by it);
- a comment naming a pending TON purchase and a value below its price: recorded as
  `underpaid` (PaymentService.record_payment_event) and the user told;
- otherwise `complete_purchase` keyed by the transaction hash, with the value in TON: it
  credits a pending, unexpired purchase whose price the value covers, and records (without
  crediting) an unknown comment, an expired offer, a purchase already paid; the same
  transaction seen again is a duplicate and changes nothing.

The cursor moves after each transaction is handled (its own small commit): a crash in between
replays that transaction, which completion's idempotency makes harmless.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.database import ton_queries
from src.services.nowpayments_ipn import PaymentNotices
from src.services.payment_service import PaymentService
from src.services.payment_types import (
    CompletionOutcome,
    CompletionStatus,
    Provider,
)
from src.services.periodic_jobs import PeriodicJob
from src.services.toncenter import TonCenterClient, TonTransfer, from_nano, to_nano

log = structlog.get_logger(__name__)

JOB_NAME = "ton_poller"
CURRENCY = "TON"
UNDERPAID = "underpaid"


class TonPoller:
    def __init__(
        self,
        *,
        client: TonCenterClient,
        wallet: str,
        payments: PaymentService,
        sessions: async_sessionmaker[AsyncSession],
        page_size: int = 100,
        max_pages: int = 20,
    ) -> None:
        self._client = client
        self._wallet = wallet
        self._payments = payments
        self._sessions = sessions
        self._page_size = page_size
        self._max_pages = max_pages
        # Set by the process that can message users (bot.py: the PaymentNotifier).
        self.notices: PaymentNotices | None = None

    def job(self, interval_seconds: float) -> PeriodicJob:
        return PeriodicJob(JOB_NAME, interval_seconds, self.run)

    async def cursor(self) -> int:
        async with self._sessions() as session:
            return await ton_queries.cursor(session, self._wallet)

    async def run(self) -> None:
        """Handle every new transaction (at most max_pages pages; the next run goes on)."""
        for _ in range(self._max_pages):
            start = await self.cursor()
            page = await self._client.transactions(
                self._wallet, start_lt=start + 1, limit=self._page_size
            )
            for transfer in page:
                await self.handle(transfer)
                async with self._sessions() as session, session.begin():
                    await ton_queries.advance(session, self._wallet, transfer.lt)
            if len(page) < self._page_size:
                return

    async def handle(self, transfer: TonTransfer) -> CompletionOutcome | None:
        skip = _not_a_payment(transfer)
        if skip:
            log.info("ton transaction skipped", reason=skip, hash=transfer.hash, lt=transfer.lt)
            return None
        assert transfer.comment is not None
        reference = transfer.comment.lower()
        amount = from_nano(transfer.value_nano)
        raw = _raw(transfer)
        purchase = await self._payments.find_pending(Provider.TON, reference)
        if purchase is not None and transfer.value_nano < to_nano(purchase.price):
            event = await self._payments.record_payment_event(
                provider=Provider.TON,
                provider_payment_id=transfer.hash,
                reference=reference,
                status=UNDERPAID,
                amount=amount,
                currency=CURRENCY,
                raw=raw,
            )
            log.warning("ton transfer below the price", hash=transfer.hash, ref=reference)
            if self.notices is not None:
                await self.notices.incomplete(event, status=UNDERPAID)
            return None
        outcome = await self._payments.complete_purchase(
            provider=Provider.TON,
            provider_payment_id=transfer.hash,
            reference=reference,
            amount=amount,
            currency=CURRENCY,
            raw=raw,
        )
        if outcome.status is not CompletionStatus.DUPLICATE and self.notices is not None:
            await self.notices.completed(outcome)  # credited, or why not (expired, mismatch)
        return outcome

    async def aclose(self) -> None:
        await self._client.aclose()


def _not_a_payment(transfer: TonTransfer) -> str | None:
    if transfer.aborted:
        return "aborted"
    if not transfer.incoming or transfer.value_nano <= 0:
        return "not an incoming transfer"
    if transfer.bounced:
        return "bounced"
    if not transfer.comment:
        return "no comment"
    return None


def _raw(transfer: TonTransfer) -> dict[str, Any]:
    return {
        "hash": transfer.hash,
        "lt": str(transfer.lt),
        "now": transfer.now,
        "source": transfer.source,
        "value_nano": str(transfer.value_nano),
        "comment": transfer.comment,
    }
