"""PaymentService: the one way a purchase is offered, completed and refunded (SPEC 9).

Every provider (Telegram Stars in src/bot/handlers/payments.py, NOWPayments and TON gateways)
ends in `complete_purchase`: ONE database transaction, idempotent on (provider,
provider_payment_id). It records the payment, moves the tier, pays the subscription bonus
(`subscription:{provider}:{provider_payment_id}`, x months) and the referrer's first-purchase
bonus (`ref_purchase:{user_id}`) through PointsService.move_within, so the bonus commits with
the payment or not at all; a crash anywhere is repaired by the provider's redelivery. A payment
whose amount or currency does not match the offer, or that arrives for an expired offer, is
recorded and not credited (admins see it). Notifications are the caller's, after the commit
(src/bot/payment_notifier.py), from the returned outcome.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from config.points_config import Tier, TransactionType
from src.database import payment_queries as q
from src.database.ledger_calls import LedgerResult
from src.database.models import Payment, Purchase, User
from src.services.payment_checks import judge_payment, retrying, verdict_for
from src.services.payment_reads import PaymentReads, purchase_of
from src.services.payment_refunds import refund_payment
from src.services.payment_types import (
    CheckoutVerdict,
    CompletionOutcome,
    CompletionStatus,
    DowngradeRefusedError,
    EventOutcome,
    Party,
    PendingPurchase,
    PlanUnavailableError,
    Provider,
    RefundOutcome,
)
from src.services.tier_math import is_downgrade, new_span

log = structlog.get_logger(__name__)

Moves = list[tuple[LedgerResult, int, TransactionType, str]]


class PaymentService(PaymentReads):
    # ------------------------------------------------------------------ offers

    async def create_purchase(
        self, user_id: int, tier: str, months: int, provider: Provider, *, recurring: bool = False
    ) -> PendingPurchase:
        """A priced, pending offer. Refuses a downgrade while a higher tier is active."""
        price, currency = self.price(provider, tier, months)
        if recurring and (provider is not Provider.STARS or months != 1):
            raise PlanUnavailableError("only the monthly Stars plan renews automatically")
        now = self.now()
        async with self._sessions() as session, session.begin():
            user = await q.lock_user(session, user_id)
            if user is None:
                raise LookupError(f"unknown user {user_id}")
            if is_downgrade(
                current_tier=user.tier, current_expires=user.tier_expires_at, tier=tier, now=now
            ):
                assert user.tier_expires_at is not None
                raise DowngradeRefusedError(user.tier, tier, user.tier_expires_at)
            row = await q.insert_purchase(
                session,
                user_id=user_id,
                tier=tier,
                months=months,
                provider=provider.value,
                price=price,
                currency=currency,
                reference=f"{provider.value[:2]}{secrets.token_hex(8)}",
                recurring=recurring,
                created_at=now,
                expires_at=now + timedelta(minutes=self._rules.payments.offer_minutes),
            )
            purchase = purchase_of(row)
        log.info("purchase offered", user_id=user_id, tier=tier, months=months, provider=provider)
        return purchase

    async def check_checkout(
        self, *, reference: str, user_id: int, amount: Decimal, currency: str
    ) -> CheckoutVerdict:
        """Telegram's pre_checkout_query: the offer is pending (or a live subscription), for
        this user, at this price, not expired. An accepted checkout is remembered, so a payment
        that lands just after the offer's expiry is still honoured."""
        now = self.now()
        async with self._sessions() as session, session.begin():
            row = await q.purchase_by_reference(session, Provider.STARS, reference, lock=True)
            verdict = verdict_for(row, user_id=user_id, amount=amount, currency=currency, now=now)
            if verdict.ok and row is not None and row.checkout_at is None:
                row.checkout_at = now
        if not verdict.ok:
            log.warning("checkout refused", user_id=user_id, reason=verdict.reason, ref=reference)
        return verdict

    # ------------------------------------------------------------------ completion

    async def complete_purchase(
        self,
        *,
        provider: Provider,
        provider_payment_id: str,
        reference: str,
        amount: Decimal,
        currency: str,
        raw: Mapping[str, Any],
    ) -> CompletionOutcome:
        """Retried on a deadlock or serialization failure (nothing was written then): Telegram
        does not redeliver a successful_payment the bot failed to handle."""
        return await retrying(
            lambda: self._complete(provider, provider_payment_id, reference, amount, currency, raw)
        )

    async def _complete(
        self,
        provider: Provider,
        provider_payment_id: str,
        reference: str,
        amount: Decimal,
        currency: str,
        raw: Mapping[str, Any],
    ) -> CompletionOutcome:
        now = self.now()
        moves: Moves = []
        async with self._sessions() as session, session.begin():
            row = await q.purchase_by_reference(session, provider.value, reference, lock=True)
            status, renewal = judge_payment(row, amount=amount, currency=currency, now=now)
            payment_id = await q.insert_payment(
                session,
                provider=provider.value,
                provider_payment_id=provider_payment_id,
                purchase_id=row.id if row else None,
                user_id=row.user_id if row else None,
                tier=row.tier if row else None,
                months=(1 if renewal else row.months) if row else 0,
                amount=amount,
                currency=currency,
                status=status.value,
                recurring=renewal,
                raw=dict(raw),
                created_at=now,
            )
            if payment_id is None:
                existing = await q.payment_by_provider_id(session, provider, provider_payment_id)
                assert existing is not None
                return await self._duplicate(session, existing, row)
            if status is not CompletionStatus.CREDITED or row is None:
                buyer = await _party(session, row.user_id) if row else None
                outcome = CompletionOutcome(
                    status, purchase_of(row) if row else None, payment_id, 0, 0, buyer=buyer
                )
            else:
                outcome = await self._credit(
                    session, row, payment_id, renewal, provider_payment_id, now, moves
                )
        self._settle(moves)
        log.info(
            "payment completed" if outcome.credited else "payment recorded, not credited",
            provider=provider.value,
            provider_payment_id=provider_payment_id,
            status=outcome.status.value,
            user_id=row.user_id if row else None,
            amount=str(amount),
            currency=currency,
        )
        return outcome

    async def _credit(
        self,
        session: AsyncSession,
        row: Purchase,
        payment_id: int,
        renewal: bool,
        provider_payment_id: str,
        now: datetime,
        moves: Moves,
    ) -> CompletionOutcome:
        user = await q.lock_user(session, row.user_id)
        assert user is not None  # a purchase's user is never deleted (foreign key)
        # Balance rows in user-id order, as the batched earn path takes them: no deadlock.
        await q.lock_balances(session, [user.telegram_id, user.referrer_id])
        months = 1 if renewal else row.months
        span = new_span(
            current_tier=user.tier,
            current_expires=user.tier_expires_at,
            tier=row.tier,
            months=months,
            now=now,
            monthly=self.monthly_prices(Provider(row.provider)),
        )
        payment = await q.payment_by_id(session, payment_id)
        assert payment is not None
        payment.prev_tier, payment.prev_expires_at = user.tier, user.tier_expires_at
        payment.span_start, payment.span_end = span.start, span.end
        user.tier, user.tier_expires_at = span.tier, span.end
        row.status, row.paid_at = "paid", row.paid_at or now
        if row.recurring:
            row.charge_id = provider_payment_id
        key = f"subscription:{row.provider}:{provider_payment_id}"
        bonus = self._rules.subscription_points_per_month[Tier(row.tier)] * months
        meta = {"tier": row.tier, "months": months, "payment_id": payment_id}
        result = await self._points.move_within(
            session,
            user_id=user.telegram_id,
            transaction_type=TransactionType.SUBSCRIPTION,
            key=key,
            amount=bonus,
            metadata=meta,
        )
        moves.append((result, user.telegram_id, TransactionType.SUBSCRIPTION, key))
        payment.bonus = result.amount
        referrer = await self._referrer_bonus(session, user, payment, moves)
        return CompletionOutcome(
            CompletionStatus.CREDITED,
            purchase_of(row),
            payment_id,
            0 if result.duplicate else result.amount,
            payment.referrer_bonus,
            tier=span.tier,
            tier_expires_at=span.end,
            buyer=Party(user.telegram_id, user.language),
            referrer=referrer,
            renewal=renewal,
        )

    async def _referrer_bonus(
        self, session: AsyncSession, user: User, payment: Payment, moves: Moves
    ) -> Party | None:
        """The referrer's bonus on the user's first paid purchase (the key makes it once)."""
        if user.referrer_id is None:
            return None
        key = f"ref_purchase:{user.telegram_id}"
        result = await self._points.move_within(
            session,
            user_id=user.referrer_id,
            transaction_type=TransactionType.REFERRAL_PURCHASE,
            key=key,
            amount=self._rules.referral_purchase_points,
            metadata={"referred_id": user.telegram_id, "payment_id": payment.id},
        )
        moves.append((result, user.referrer_id, TransactionType.REFERRAL_PURCHASE, key))
        if result.duplicate:
            return None
        payment.referrer_id, payment.referrer_bonus = user.referrer_id, result.amount
        return await _party(session, user.referrer_id)

    async def _duplicate(
        self, session: AsyncSession, existing: Payment, row: Purchase | None
    ) -> CompletionOutcome:
        log.warning(
            "Duplicate payment",
            provider=existing.provider,
            provider_payment_id=existing.provider_payment_id,
            status=existing.status,
        )
        return CompletionOutcome(
            CompletionStatus.DUPLICATE, purchase_of(row) if row else None, existing.id, 0, 0
        )

    def _settle(self, moves: Moves) -> None:
        for result, user_id, transaction_type, key in moves:
            self._points.settled(
                result, user_id=user_id, transaction_type=transaction_type.value, key=key
            )

    # ------------------------------------------------------------------ other statuses

    async def record_payment_event(
        self,
        *,
        provider: Provider,
        provider_payment_id: str,
        reference: str | None,
        status: str,
        amount: Decimal | None,
        currency: str | None,
        raw: Mapping[str, Any],
    ) -> EventOutcome:
        """Keep a status that credits nothing (partially_paid, underpaid, ...), with the
        purchase it names and its buyer, if any, so the caller can tell them."""
        async with self._sessions() as session, session.begin():
            event_id = await q.insert_event(
                session,
                provider=provider.value,
                provider_payment_id=provider_payment_id,
                reference=reference,
                status=status,
                amount=amount,
                currency=currency,
                raw=dict(raw),
                created_at=self.now(),
            )
            row = (
                await q.purchase_by_reference(session, provider.value, reference)
                if reference
                else None
            )
            buyer = await _party(session, row.user_id) if row else None
        log.info("payment event", provider=provider.value, id=provider_payment_id, status=status)
        return EventOutcome(event_id, purchase_of(row) if row else None, buyer)

    async def refund(
        self, *, provider: Provider, provider_payment_id: str, raw: Mapping[str, Any]
    ) -> RefundOutcome:
        """End the span the payment bought and take its bonus back (never below zero)."""
        return await retrying(lambda: self._refund(provider, provider_payment_id, raw))

    async def _refund(
        self, provider: Provider, provider_payment_id: str, raw: Mapping[str, Any]
    ) -> RefundOutcome:
        moves: Moves = []
        async with self._sessions() as session, session.begin():
            outcome = await refund_payment(
                session,
                points=self._points,
                provider=provider,
                provider_payment_id=provider_payment_id,
                raw=dict(raw),
                now=self.now(),
                moves=moves,
            )
        self._settle(moves)
        log.info(
            "payment refund",
            provider=provider.value,
            provider_payment_id=provider_payment_id,
            status=outcome.status.value,
            clawed_back=outcome.clawed_back,
            unrecovered=outcome.unrecovered,
        )
        return outcome


async def _party(session: AsyncSession, user_id: int) -> Party:
    user = await session.get(User, user_id)
    return Party(user_id, user.language if user else "en")
