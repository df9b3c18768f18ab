"""create_api(context): the FastAPI application of the API process (and of the tests).

It takes the same `AppContext` as the bot (one assembly: same services, same rules), adds
what is the API's own (init data auth, rate limit, metrics, the Mini App's static page) and
nothing else. Routers come from src/api/routes/__init__.py, the one include point.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from aiogram import Bot
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from src.api.errors import install_error_handlers
from src.api.init_data import InitDataVerifier
from src.api.middleware import MetricsMiddleware
from src.api.rate_limit import RateLimiter, build_limiter
from src.api.routes import create_routers
from src.api.state import ApiState
from src.bootstrap import AppContext
from src.bot.bot_factory import create_bot

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_api(
    context: AppContext, *, bot: Bot | None = None, limiter: RateLimiter | None = None
) -> FastAPI:
    """The app for `context`. `bot` replaces the Bot built from BOT_TOKEN (tests pass one on
    an in-process Bot API); `limiter` replaces the rate limiter of the settings (Redis with
    REDIS_URL, else in-process)."""
    settings = context.settings
    if settings.bot_token is None:
        raise ValueError("BOT_TOKEN is required: the API checks Mini App init data with it")
    token = settings.bot_token.get_secret_value()
    owns_bot, owns_limiter = bot is None, limiter is None
    bot = bot or create_bot(token, api_base=settings.telegram_api_base)
    state = ApiState(
        context=context,
        verifier=InitDataVerifier(
            token, max_age=timedelta(seconds=settings.init_data_max_age_seconds)
        ),
        bot=bot,
        limiter=limiter or build_limiter(settings, context.failures),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await state.drain()
        if owns_limiter:
            await state.limiter.aclose()
        if owns_bot:  # the context is closed by whoever built it
            await state.bot.session.close()

    app = FastAPI(
        title="Syntra API",
        summary="Points of a Telegram user, for the Syntra Mini App",
        version="1.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        # Prometheus (/metrics) is our telemetry; FastAPI's OpenTelemetry hooks would only
        # cost a check per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.api = state
    app.add_middleware(MetricsMiddleware)
    install_error_handlers(app)
    for router in create_routers():
        app.include_router(router)

    async def to_app() -> RedirectResponse:
        return RedirectResponse("/app/", status_code=308)

    app.add_api_route("/app", to_app, methods=["GET"], include_in_schema=False)
    app.mount("/app/", StaticFiles(directory=STATIC_DIR, html=True), name="mini-app")
    return app
