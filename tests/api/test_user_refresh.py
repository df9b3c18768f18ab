"""Users the API has seen are served from memory and refreshed in the background: a name or
language changed elsewhere arrives with the next refresh, and no request waits for it."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.api.state import ApiState
from src.bootstrap import AppContext
from src.database.models import User
from tests.api.conftest import Signer, app_for

ME = 560_000_001


async def test_profile_refreshed_in_the_background(
    api_context: AppContext, signer: Signer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    app = app_for(api_context)
    state: ApiState = app.state.api
    transport = httpx.ASGITransport(app=app)
    state.refresh_after = 0  # every cached profile is due at once
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = signer.headers(ME, language="en", first_name="Ann")
        assert (await client.get("/api/app/texts", headers=first)).json()["language"] == "en"
        await state.drain()

        # The user picks Russian in the chat and renames themselves in Telegram.
        await api_context.users.set_language(user_id=ME, language="ru")
        renamed = signer.headers(ME, language="en", first_name="Anna")
        served = await client.get("/api/app/texts", headers=renamed)
        assert served.json()["language"] == "en"  # served from memory; the refresh started
        await state.drain()
        async with sessions() as session:
            user = await session.get(User, ME)
        assert user is not None and user.first_name == "Anna"
        after = await client.get("/api/points/balance", headers=renamed)
        assert after.json()["level_name"] == "Новичок"  # the refreshed language
        assert (await client.get("/api/app/texts", headers=renamed)).json()["language"] == "ru"


async def test_a_failed_refresh_keeps_serving_and_is_counted(
    api_context: AppContext, signer: Signer
) -> None:
    app = app_for(api_context)
    state: ApiState = app.state.api
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        state.refresh_after = 0
        headers = signer.headers(ME)
        assert (await client.get("/api/points/balance", headers=headers)).status_code == 200

        async def broken(**_: object) -> None:
            raise OSError("database unreachable")

        api_context.users.register = broken  # type: ignore[method-assign]
        api_context.users.get = broken  # type: ignore[assignment,method-assign]
        before = api_context.failures.get("user_refresh")
        assert (await client.get("/api/points/balance", headers=headers)).status_code == 200
        await state.drain()
        assert api_context.failures.get("user_refresh") == before + 1


async def test_an_unchanged_user_is_reread_not_rewritten(
    api_context: AppContext, signer: Signer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    app = app_for(api_context)
    state: ApiState = app.state.api
    state.refresh_after = 0
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        headers = signer.headers(ME, language="en")
        assert (await client.get("/api/app/texts", headers=headers)).json()["language"] == "en"
        async with sessions() as session:
            seen = (await session.get(User, ME)).last_seen_at  # type: ignore[union-attr]
        await api_context.users.set_language(user_id=ME, language="ru")
        await client.get("/api/app/texts", headers=headers)  # due: a background re-read
        await state.drain()
        assert (await client.get("/api/app/texts", headers=headers)).json()["language"] == "ru"
        async with sessions() as session:
            user = await session.get(User, ME)
        assert user is not None and user.last_seen_at == seen  # read, not written
