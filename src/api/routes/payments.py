"""Payment provider callbacks: `POST /api/payments/nowpayments` (NOWPayments IPN).

Authenticated by the provider's signature, not by Mini App init data: a missing or wrong
`x-nowpayments-sig` is a 401 and nothing is written. A verified IPN is processed within a
few seconds (src/services/nowpayments_ipn.py); 503 when that takes longer (the work goes on,
NOWPayments resends, the resend is a duplicate). `GET /api/payments/nowpayments/return` is the
page NOWPayments sends the payer back to.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse

from src.api.deps import BotDep, State
from src.api.errors import ApiError, documented
from src.bot.payment_notifier import PaymentNotifier
from src.services.nowpayments import IpnError, SignatureError
from src.services.nowpayments_ipn import IpnTimeoutError

log = structlog.get_logger(__name__)

MAX_IPN_BYTES = 64 * 1024
RETURN_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Syntra</title></head>
<body style="font-family:sans-serif;text-align:center;padding:3em 1em">
<p>Thank you! The bot will message you as soon as the payment is confirmed.</p>
<p>Спасибо! Бот напишет вам, как только платёж будет подтверждён.</p>
</body></html>"""


def create_router() -> APIRouter:
    router = APIRouter(prefix="/api/payments", tags=["payments"])

    @router.post(
        "/nowpayments",
        summary="NOWPayments IPN (signed with the IPN secret)",
        responses=documented(400, 401, 404, 413, 503),
    )
    async def nowpayments_ipn(
        request: Request,
        state: State,
        bot: BotDep,
        x_nowpayments_sig: Annotated[str | None, Header()] = None,
    ) -> dict[str, str]:
        ipn = state.context.nowpayments_ipn
        if ipn is None:
            raise ApiError(404, "not_configured", "NOWPayments is not configured")
        body = await request.body()
        if len(body) > MAX_IPN_BYTES:
            raise ApiError(413, "too_large", "IPN body too large")
        try:
            notice = ipn.verified(body, x_nowpayments_sig)
        except SignatureError as exc:
            log.warning("nowpayments ipn refused", reason=str(exc))
            raise ApiError(401, "unauthorized", str(exc)) from None
        except IpnError as exc:
            log.warning("nowpayments ipn not understood", reason=str(exc))
            raise ApiError(400, "bad_ipn", str(exc)) from None
        try:
            notifier = PaymentNotifier(bot, timezone=state.context.settings.timezone)
            result = await ipn.process(notice, notifier)
        except IpnTimeoutError:
            raise ApiError(503, "busy", "still processing; resend later") from None
        log.info(
            "nowpayments ipn", payment_id=notice.payment_id, status=notice.status, result=result
        )
        return {"status": "ok", "result": result}

    @router.get("/nowpayments/return", include_in_schema=False)
    async def nowpayments_return() -> HTMLResponse:
        return HTMLResponse(RETURN_PAGE)

    return router
