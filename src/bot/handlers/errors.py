"""Last line of defence: log the failure with context, count it, tell the user politely."""

from __future__ import annotations

from typing import Any

import structlog
from aiogram import Router
from aiogram.types import CallbackQuery, ErrorEvent

from src.locales import Translator, translator
from src.services.failures import FailureCounter

log = structlog.get_logger(__name__)


async def on_error(event: ErrorEvent, failures: FailureCounter, **data: Any) -> None:
    update = event.update
    user = (update.message and update.message.from_user) or (
        update.callback_query and update.callback_query.from_user
    )
    total = failures.inc("handler")
    log.error(
        "update handling failed",
        update_id=update.update_id,
        user_id=user.id if user else None,
        error=repr(event.exception),
        failures_total=total,
        exc_info=event.exception,
    )
    t: Translator = data.get("t") or translator("en")
    try:  # no stack trace ever reaches the user
        if update.message is not None:
            await update.message.answer(t("error-generic"))
        elif isinstance(update.callback_query, CallbackQuery):
            await update.callback_query.answer(t("error-generic"), show_alert=True)
    except Exception:
        log.warning("could not tell the user about the failure", update_id=update.update_id)


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router
