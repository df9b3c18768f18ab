"""Expiry: reminders 3 days before and at expiry, once each even with two workers; the
effective tier is FREE afterwards (SPEC 1, 9)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from config.points_config import Tier
from src.bot.payment_jobs import REMINDERS_JOB, reminder_job
from src.bot.payment_notifier import PaymentNotifier
from src.locales import translator
from src.services.failures import FailureCounter
from src.services.periodic_jobs import JobRunner
from tests.bot.helpers import LANGS, ledger
from tests.bot.payment_harness import PayBot, texts
from tests.support.clock import FakeClock
from tests.support.factories import create_user, set_tier


def runners(paybot: PayBot, count: int = 2) -> list[JobRunner]:
    """`count` job runners, as `count` bot workers would have."""
    made = []
    for _ in range(count):
        runner = JobRunner(paybot.context.engine, FailureCounter())
        notifier = PaymentNotifier(paybot.bot, timezone="UTC")
        runner.add(reminder_job(paybot.context.payments, notifier))
        made.append(runner)
    return made


@pytest.mark.parametrize("lang", LANGS)
async def test_reminders_are_sent_once_before_and_at_expiry_then_the_tier_is_free(
    paybot: PayBot, clock: FakeClock, lang: str
) -> None:
    sessions = paybot.context.sessions
    user = await create_user(sessions, language_code=lang)
    expires = clock() + timedelta(days=2, hours=1)
    await set_tier(sessions, user, Tier.PREMIUM, expires)
    workers = runners(paybot)
    t = translator(lang)
    until = "12 Mar 2026" if lang == "en" else "12 мар. 2026"

    start = len(paybot.fake.calls)
    await asyncio.gather(*(r.run_once(REMINDERS_JOB) for r in workers))
    for runner in workers:  # later ticks find the reminder sent
        await runner.run_once(REMINDERS_JOB)
    assert texts(paybot.fake.calls[start:], user) == [t("remind-soon", tier="PREMIUM", until=until)]

    clock.set(expires + timedelta(minutes=5))
    start = len(paybot.fake.calls)
    await asyncio.gather(*(r.run_once(REMINDERS_JOB) for r in workers))
    await workers[0].run_once(REMINDERS_JOB)
    assert texts(paybot.fake.calls[start:], user) == [t("remind-expired", tier="PREMIUM")]

    menu = await paybot.send("/subscribe", user_id=user, lang=lang)
    assert t("sub-current-free") in texts(menu, user)[0]
    await paybot.send("gm", user_id=user, lang=lang)  # earns at FREE x1.0 again
    rows = await ledger(sessions, user)
    assert [(r.transaction_type, r.amount) for r in rows] == [("earn_text_request", 10)]
    paybot.assert_clean()
