"""Mini App init data: valid, forged, expired, future, missing or malformed -> 401 JSON; never
logged; a valid user the bot has not seen is registered with their Telegram language."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from src.api.init_data import sign_fields
from src.database.models import User
from tests.api.conftest import TEST_TOKEN, ClientFactory, Signer
from tests.support.clock import FakeClock

USER = 555_000_001
BALANCE = "/api/points/balance"


async def test_valid_init_data_registers_a_new_user(
    client: httpx.AsyncClient, signer: Signer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = signer.headers(USER, language="ru", first_name="Аня", username="anya")
    response = await client.get(BALANCE, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["level_name"] == "Новичок"
    async with sessions() as session:
        user = await session.get(User, USER)
    assert user is not None
    assert (user.first_name, user.username, user.language) == ("Аня", "anya", "ru")


def _assert_401(response: httpx.Response, detail_part: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["www-authenticate"] == "tma"
    body = response.json()
    assert body["error"] == "unauthorized" and detail_part in body["detail"], body


@pytest.mark.parametrize(
    ("make_header", "detail"),
    [
        (lambda s: None, "missing Authorization"),
        (lambda s: "", "missing Authorization"),
        (lambda s: f"Bearer {s.init_data(USER)}", "tma <initData>"),
        (lambda s: "tma ", "tma <initData>"),
        (lambda s: f"tma {s.init_data(USER, token='424242:SOMEONE-ELSE')}", "signature"),
        (lambda s: f"tma {s.init_data(USER).replace('555000001', '555000002')}", "signature"),
        (lambda s: f"tma {s.init_data(USER)[:-2]}00", "signature"),
        (lambda s: "tma auth_date=1&hash=abc", "signature"),
        (lambda s: "tma %%%", "signature"),
    ],
    ids=[
        "no-header",
        "empty",
        "wrong-scheme",
        "empty-init-data",
        "other-bot-token",
        "user-swapped",
        "hash-altered",
        "junk-hash",
        "not-a-query-string",
    ],
)
async def test_refused_without_valid_signature(
    client: httpx.AsyncClient,
    signer: Signer,
    sessions: async_sessionmaker[AsyncSession],
    make_header: object,
    detail: str,
) -> None:
    header = make_header(signer)  # type: ignore[operator]
    headers = {} if header is None else {"Authorization": header}
    _assert_401(await client.get(BALANCE, headers=headers), detail)
    async with sessions() as session:
        assert await session.get(User, USER) is None  # nothing registered


async def test_expired_and_future_init_data(
    make_client: ClientFactory, signer: Signer, clock: FakeClock
) -> None:
    client = make_client(INIT_DATA_MAX_AGE_SECONDS="3600")
    now = clock()
    fresh = signer.headers(USER, auth_date=now - timedelta(seconds=3599))
    assert (await client.get(BALANCE, headers=fresh)).status_code == 200
    stale = signer.headers(USER, auth_date=now - timedelta(seconds=3601))
    _assert_401(await client.get(BALANCE, headers=stale), "expired")
    clock.advance(seconds=2)  # the header that was fresh a moment ago has now expired
    _assert_401(await client.get(BALANCE, headers=fresh), "expired")
    ahead = signer.headers(USER, auth_date=clock() + timedelta(minutes=6))
    _assert_401(await client.get(BALANCE, headers=ahead), "future")
    slightly_ahead = signer.headers(USER, auth_date=clock() + timedelta(minutes=4))
    assert (await client.get(BALANCE, headers=slightly_ahead)).status_code == 200


async def test_default_max_age_is_one_day(
    client: httpx.AsyncClient, signer: Signer, clock: FakeClock
) -> None:
    day_old = signer.headers(USER, auth_date=clock() - timedelta(hours=23, minutes=59))
    assert (await client.get(BALANCE, headers=day_old)).status_code == 200
    older = signer.headers(USER, auth_date=clock() - timedelta(hours=24, seconds=1))
    _assert_401(await client.get(BALANCE, headers=older), "expired")


async def test_every_points_endpoint_requires_init_data(client: httpx.AsyncClient) -> None:
    for path in ("balance", "history", "leaderboard", "levels", "stats"):
        _assert_401(await client.get(f"/api/points/{path}"), "missing")


async def test_init_data_never_logged(
    client: httpx.AsyncClient, signer: Signer, caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    valid = signer.init_data(USER)
    forged = signer.init_data(USER, token="424242:SOMEONE-ELSE")
    expired = signer.init_data(USER, auth_date=clock() - timedelta(days=2))
    hashes = [parse_qs(raw)["hash"][0] for raw in (valid, forged, expired)]
    caplog.set_level(logging.DEBUG)
    with capture_logs() as events:
        for raw in (valid, forged, expired):
            await client.get(BALANCE, headers={"Authorization": f"tma {raw}"})
    logged = "\n".join([*(repr(e) for e in events), *(repr(r.__dict__) for r in caplog.records)])
    refusals = [e for e in events if e["event"] == "init data refused"]
    assert len(refusals) == 2  # logged, with their reason only
    for value in hashes:
        assert value not in logged


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"auth_date": "NOW", "query_id": "q"}, "carries no user"),
        ({"auth_date": "NOW", "user": "{not json"}, "malformed"),
        ({"auth_date": "NOW", "user": '{"first_name":"No id"}'}, "malformed"),
        ({"auth_date": "NOW", "user": '{"id":"abc"}'}, "malformed"),
        ({"auth_date": "yesterday", "user": '{"id":1}'}, "malformed"),
        ({"user": '{"id":1}'}, "malformed"),
    ],
    ids=["no-user", "user-not-json", "user-without-id", "id-not-a-number", "bad-date", "no-date"],
)
async def test_signed_but_unusable_init_data(
    client: httpx.AsyncClient, clock: FakeClock, fields: dict[str, str], detail: str
) -> None:
    now = str(int(clock().timestamp()))
    raw = sign_fields(TEST_TOKEN, {k: v.replace("NOW", now) for k, v in fields.items()})
    _assert_401(await client.get(BALANCE, headers={"Authorization": f"tma {raw}"}), detail)


async def test_telegram_fields_beyond_ours_are_signed_too(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    # Real init data carries more (chat_instance, chat_type, signature, photo_url in user):
    # all of it is covered by the hash, and the extra fields are simply ignored.
    fields = {
        "auth_date": str(int(clock().timestamp())),
        "chat_instance": "-4392024611134463532",
        "chat_type": "private",
        "signature": "sXzTkXmcaQK9Jc0nRSHzNHN0dPuNv8MRsKvT9L0zRhgrjxYFQCqsuzQN2ZMnLqkdKobT4Sg",
        "user": json.dumps(
            {
                "id": USER,
                "first_name": "Ann",
                "is_premium": True,
                "allows_write_to_pm": True,
                "photo_url": "https://t.me/i/userpic/320/x.svg",
                "language_code": "en",
            }
        ),
    }
    raw = sign_fields(TEST_TOKEN, fields)
    assert (await client.get(BALANCE, headers={"Authorization": f"tma {raw}"})).status_code == 200
    tampered = raw.replace("private", "group")
    _assert_401(
        await client.get(BALANCE, headers={"Authorization": f"tma {tampered}"}), "signature"
    )
