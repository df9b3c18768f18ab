"""Messages about payments, sent after the commit, in each person's language.

One object for both processes: the bot builds it with its `Bot`, the API process with the Bot
of `BotDep` (payment callbacks arrive there). A message that cannot be delivered (the user
blocked the bot) is logged, never raised: the payment is already committed.
"""

from __future__ import annotations

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from src.bot.views.payments import until
from src.locales import translator
from src.locales.numbers import grouped
from src.services.payment_types import (
    CompletionOutcome,
    CompletionStatus,
    EventOutcome,
    RefundOutcome,
    RefundStatus,
)
from src.services.payment_views import Reminder

log = structlog.get_logger(__name__)


class PaymentNotifier:
    def __init__(self, bot: Bot, *, timezone: str) -> None:
        self._bot = bot
        self._timezone = timezone

    async def completed(self, outcome: CompletionOutcome) -> None:
        """The buyer (and a referrer paid for it) after complete_purchase; nothing on a replay."""
        buyer = outcome.buyer
        if outcome.status is CompletionStatus.DUPLICATE or buyer is None:
            return
        t = translator(buyer.language)
        if not outcome.credited:
            await self._send(buyer.user_id, t("pay-not-credited"))
            return
        assert outcome.tier is not None and outcome.tier_expires_at is not None
        await self._send(
            buyer.user_id,
            t(
                "pay-renewed" if outcome.renewal else "pay-credited",
                tier=outcome.tier,
                until=until(outcome.tier_expires_at, t.language, self._timezone),
                bonus=grouped(outcome.bonus_credited, t.language),
            ),
        )
        if outcome.referrer is not None and outcome.referrer_bonus_credited:
            rt = translator(outcome.referrer.language)
            amount = grouped(outcome.referrer_bonus_credited, rt.language)
            await self._send(outcome.referrer.user_id, rt("pay-referrer", amount=amount))

    async def refunded(self, outcome: RefundOutcome) -> None:
        if outcome.status is not RefundStatus.REFUNDED or outcome.user is None:
            return
        t = translator(outcome.user.language)
        await self._send(
            outcome.user.user_id,
            t(
                "pay-refunded",
                tier=outcome.tier or "FREE",
                clawed=grouped(outcome.clawed_back, t.language),
            ),
        )

    async def incomplete(self, outcome: EventOutcome, *, status: str) -> None:
        """A provider said the payment is short (partially_paid, underpaid)."""
        if outcome.buyer is None or outcome.purchase is None:
            return
        t = translator(outcome.buyer.language)
        text = t("pay-partial", tier=outcome.purchase.tier, status=status)
        await self._send(outcome.buyer.user_id, text)

    async def remind(self, reminder: Reminder) -> bool:
        t = translator(reminder.language)
        key = "remind-soon" if reminder.kind == "soon" else "remind-expired"
        when = until(reminder.expires_at, t.language, self._timezone)
        return await self._send(reminder.user_id, t(key, tier=reminder.tier, until=when))

    async def _send(self, chat_id: int, text: str) -> bool:
        try:
            await self._bot.send_message(chat_id, text)
        except TelegramAPIError as exc:
            log.warning("payment message not delivered", user_id=chat_id, reason=str(exc))
            return False
        return True
