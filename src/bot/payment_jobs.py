"""The bot's payment chores as PeriodicJobs (src/services/periodic_jobs.py): expiry reminders.

The bot process adds them to `context.jobs` once it has its `Bot` (bot.py); the advisory lock
runs each at most once at a time across workers, and every reminder is claimed in the database
before it is sent, so two runners (or a rerun) never send the same reminder twice.
"""

from __future__ import annotations

import structlog

from src.bot.payment_notifier import PaymentNotifier
from src.services.payment_service import PaymentService
from src.services.periodic_jobs import PeriodicJob

log = structlog.get_logger(__name__)

REMINDERS_JOB = "subscription_reminders"
REMINDERS_EVERY_SECONDS = 600.0


def reminder_job(
    payments: PaymentService,
    notifier: PaymentNotifier,
    *,
    interval_seconds: float = REMINDERS_EVERY_SECONDS,
) -> PeriodicJob:
    async def run() -> None:
        due = await payments.due_reminders()
        sent = 0
        for reminder in due:
            sent += await notifier.remind(reminder)
        if due:
            log.info("subscription reminders", due=len(due), sent=sent)

    return PeriodicJob(REMINDERS_JOB, interval_seconds, run)
