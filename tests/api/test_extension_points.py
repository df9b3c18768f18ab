"""What the payments work builds on: a router mounted next to the points routes, a route that
authenticates with `CurrentUser` and messages the user through the API process's `BotDep`."""

from __future__ import annotations

import httpx
from aiogram.methods import SendMessage
from fastapi import APIRouter

from src.api.app import create_api
from src.api.deps import BotDep, CurrentUser
from src.bootstrap import AppContext
from src.bot.local_session import local_bot
from tests.api.conftest import Signer

ME = 561_000_001


async def test_a_new_router_gets_the_user_and_the_bot(
    api_context: AppContext, signer: Signer
) -> None:
    bot, session = local_bot()
    app = create_api(api_context, bot=bot)
    router = APIRouter(prefix="/api/payments")

    @router.post("/notify-me")
    async def notify_me(user: CurrentUser, bot: BotDep) -> dict[str, int]:
        await bot.send_message(user.telegram_id, f"Hello, {user.first_name}")
        return {"user": user.telegram_id}

    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        denied = await client.post("/api/payments/notify-me")
        assert denied.status_code == 401 and denied.json()["error"] == "unauthorized"
        ok = await client.post(
            "/api/payments/notify-me", headers=signer.headers(ME, first_name="Ann")
        )
        assert ok.status_code == 200 and ok.json() == {"user": ME}
    (sent,) = [r for r in session.take() if isinstance(r, SendMessage)]
    assert (sent.chat_id, sent.text) == (ME, "Hello, Ann")


async def test_a_payment_callback_completes_in_the_api_process_and_notifies(
    api_context: AppContext,
) -> None:
    """The shape of a provider's callback route: complete_purchase, then PaymentNotifier with
    the API process's Bot (what the NOWPayments IPN route does)."""
    from decimal import Decimal

    from src.bot.payment_notifier import PaymentNotifier
    from src.locales import translator
    from src.services.payment_types import Provider
    from tests.support.factories import create_user

    buyer = await create_user(api_context.sessions, language_code="ru")
    purchase = await api_context.payments.create_purchase(buyer, "BASIC", 1, Provider.NOWPAYMENTS)
    bot, session = local_bot()
    app = create_api(api_context, bot=bot)
    router = APIRouter(prefix="/api/payments")

    @router.post("/test-provider/{reference}")
    async def callback(reference: str, bot: BotDep) -> dict[str, str]:
        outcome = await api_context.payments.complete_purchase(
            provider=Provider.NOWPAYMENTS,
            provider_payment_id=f"np-{reference}",
            reference=reference,
            amount=Decimal("4.99"),
            currency="USD",
            raw={"payment_status": "finished"},
        )
        await PaymentNotifier(bot, timezone="UTC").completed(outcome)
        return {"status": outcome.status.value}

    app.include_router(router)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        first = await client.post(f"/api/payments/test-provider/{purchase.reference}")
        again = await client.post(f"/api/payments/test-provider/{purchase.reference}")
    assert (first.json(), again.json()) == ({"status": "credited"}, {"status": "duplicate"})
    (sent,) = [r for r in session.take() if isinstance(r, SendMessage)]
    assert sent.chat_id == buyer
    assert sent.text.startswith(
        translator("ru")("pay-credited", tier="BASIC", until="x", bonus="500").split("\n")[0]
    )
