"""Health, Prometheus metrics, the per-user rate limit, OpenAPI docs, the Mini App's texts
and static page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import REGISTRY

from config.settings import load_settings
from src.bootstrap import AppContext, build_context
from src.locales import message_ids
from tests.api.conftest import TEST_TOKEN, ClientFactory, Signer, client_for
from tests.conftest import ADMIN_ID
from tests.support.processes import free_port

ME = 557_000_001


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_health_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.fixture
async def unreachable_database() -> AsyncIterator[AppContext]:
    settings = load_settings(_env_file=None, BOT_TOKEN=TEST_TOKEN)
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    context = build_context(settings, database_url=url)
    yield context
    await context.close()


async def test_health_503_and_points_503_when_the_database_is_down(
    unreachable_database: AppContext, signer: Signer
) -> None:
    async with client_for(unreachable_database) as client:
        response = await client.get("/api/health")
        assert response.status_code == 503
        assert response.json() == {
            "error": "unavailable",
            "detail": "the database is not reachable",
        }
        # This context runs on the wall clock, not the FakeClock.
        headers = signer.headers(ME, auth_date=datetime.now(UTC))
        response = await client.get("/api/points/balance", headers=headers)
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "unavailable"


async def test_metrics_http_points_and_failures(
    client: httpx.AsyncClient, signer: Signer, api_context: AppContext
) -> None:
    route = "/api/points/balance"
    ok_before = sample("syntra_http_requests_total", method="GET", route=route, status="200")
    denied_before = sample("syntra_http_requests_total", method="GET", route=route, status="401")
    timed_before = sample("syntra_http_request_duration_seconds_count", method="GET", route=route)
    grants_before = sample("syntra_points_operations_total", type="admin_grant", outcome="awarded")
    moved_before = sample("syntra_points_moved_total", type="admin_grant", direction="credit")
    absorbed_before = sample("syntra_failures_absorbed_total", kind="points")

    assert (await client.get(route, headers=signer.headers(ME))).status_code == 200
    assert (await client.get(route)).status_code == 401
    await api_context.points.admin_grant(user_id=ME, amount=70, admin_id=ADMIN_ID, key="g1")
    await api_context.points.admin_grant(user_id=ME, amount=70, admin_id=ADMIN_ID, key="g1")
    api_context.failures.inc("points")
    await client.get("/no/such/page")

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert re.search(
        r'^syntra_http_request_duration_seconds_bucket\{le="0.25",method="GET",'
        r'route="/api/points/balance"\} \d',
        text,
        re.M,
    )
    assert 'route="unmatched",status="404"' in text  # raw paths never become labels
    assert "/no/such/page" not in text
    assert (
        sample("syntra_http_requests_total", method="GET", route=route, status="200")
        == ok_before + 1
    )
    assert (
        sample("syntra_http_requests_total", method="GET", route=route, status="401")
        == denied_before + 1
    )
    assert (
        sample("syntra_http_request_duration_seconds_count", method="GET", route=route)
        == timed_before + 2
    )
    assert (
        sample("syntra_points_operations_total", type="admin_grant", outcome="awarded")
        == grants_before + 1
    )
    assert sample("syntra_points_operations_total", type="admin_grant", outcome="duplicate") >= 1
    assert (
        sample("syntra_points_moved_total", type="admin_grant", direction="credit")
        == moved_before + 70
    )
    assert sample("syntra_failures_absorbed_total", kind="points") == absorbed_before + 1


async def test_rate_limit_per_user_with_retry_after(
    make_client: ClientFactory, signer: Signer
) -> None:
    client = make_client(API_RATE_LIMIT_PER_MINUTE="6", API_RATE_LIMIT_BURST="3")
    mine, other = signer.headers(ME), signer.headers(ME + 1)
    for _ in range(3):
        assert (await client.get("/api/points/levels", headers=mine)).status_code == 200
    refused = await client.get("/api/points/history", headers=mine)
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert refused.headers["retry-after"] == "10"  # one token back at 6 a minute
    assert (await client.get("/api/points/balance", headers=other)).status_code == 200
    assert (await client.get("/api/health")).status_code == 200  # not limited


async def test_openapi_and_docs(client: httpx.AsyncClient) -> None:
    docs = await client.get("/api/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = (await client.get("/api/openapi.json")).json()
    paths = set(schema["paths"])
    assert {
        "/api/points/balance",
        "/api/points/history",
        "/api/points/leaderboard",
        "/api/points/levels",
        "/api/points/stats",
        "/api/health",
        "/api/app/texts",
    } <= paths
    balance = schema["components"]["schemas"]["BalanceOut"]
    assert set(balance["properties"]) == {
        "balance",
        "lifetime_earned",
        "lifetime_spent",
        "level",
        "level_name",
        "level_icon",
        "earning_multiplier",
        "current_streak",
        "longest_streak",
        "next_level_points",
        "progress_to_next_level",
    }
    security = schema["components"]["securitySchemes"]["TelegramInitData"]
    assert security == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": security["description"],
    }
    for path in ("balance", "history", "leaderboard", "levels", "stats"):  # Swagger's padlock
        assert schema["paths"][f"/api/points/{path}"]["get"]["security"] == [
            {"TelegramInitData": []}
        ]
    assert set(schema["paths"]["/api/points/history"]["get"]["responses"]) == {
        "200",
        "401",
        "422",
        "429",
        "503",
    }


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_app_texts_follow_the_stored_language(
    client: httpx.AsyncClient, signer: Signer, language: str
) -> None:
    expected = {i.removeprefix("app-") for i in message_ids(language) if i.startswith("app-")}
    public = (await client.get("/api/app/texts", params={"lang": language})).json()
    assert public["language"] == language and set(public["texts"]) == expected
    assert public["texts"]["next-level"] in ("{missing} to {name}", "До уровня {name}: {missing}")
    other = "en" if language == "ru" else "ru"
    headers = signer.headers(ME, language=language)
    assert (await client.get("/api/points/balance", headers=headers)).status_code == 200
    # The stored language wins over the `lang` hint once the user is known.
    mine = (await client.get("/api/app/texts", params={"lang": other}, headers=headers)).json()
    assert mine == public
    bad = await client.get("/api/app/texts", headers={"Authorization": "tma forged"})
    assert bad.status_code == 401
    assert (await client.get("/api/app/texts", params={"lang": "de"})).status_code == 422


async def test_mini_app_page_is_served(client: httpx.AsyncClient) -> None:
    redirect = await client.get("/app")
    assert redirect.status_code == 308 and redirect.headers["location"] == "/app/"
    page = await client.get("/app/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="https://telegram.org/js/telegram-web-app.js' in page.text
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    links = re.findall(r'<link[^>]+href="([^"]+)"', page.text)
    for url in scripts + links:  # nothing from elsewhere but Telegram's own script
        if url.startswith("http"):
            assert url.startswith("https://telegram.org/js/telegram-web-app.js")
        else:
            assert (await client.get(f"/app/{url}")).status_code == 200, url
