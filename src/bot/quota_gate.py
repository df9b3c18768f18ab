"""One way for a handler to serve a request within the user's daily quota.

Every earning request (a question, a picture, a chart) asks its tier's quota first: over it,
the request is not served (no AI call, no chart, no points) and the user is told when the
quota resets. A request that ends up not served (the AI failed, the exchange was down, the
reply could not be delivered) gives its slot back, so the quota counts served requests. The
slot is keyed like the request's ledger award, so a redelivered update holds one slot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from config.points_config import RequestAction
from src.bot.views.quotas import quota_refusal_text
from src.locales import Translator
from src.services.quota_service import QuotaService
from src.services.user_types import UserProfile

T = TypeVar("T")


async def within_quota(
    quotas: QuotaService,
    user: UserProfile | None,
    action: RequestAction,
    key: str,
    *,
    t: Translator,
    refuse: Callable[[str], Awaitable[Any]],
    serve: Callable[[], Awaitable[T]],
) -> T | None:
    """`serve()`'s result when the quota allows it, else None after `refuse(text)`.

    A falsy result means "not served" and gives the slot back, as does an exception (which
    propagates).
    """
    slot = await quotas.take(user, action, key)
    if slot.refused:
        await refuse(quota_refusal_text(t, slot, timezone=quotas.timezone))
        return None
    try:
        result = await serve()
    except BaseException:  # not delivered (Telegram refused, shutdown): not a served request
        await quotas.release(slot)
        raise
    if not result:
        await quotas.release(slot)
    return result
