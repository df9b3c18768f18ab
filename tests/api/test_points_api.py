"""Every /api/points endpoint: exact fields, values from PointsService, bounds (422), order,
labels in the user's language; the balance is what /points shows for the same user."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.bootstrap import AppContext
from src.services.user_service import UserService
from tests.api.conftest import Signer
from tests.conftest import ADMIN_ID, harness_for
from tests.support.clock import FakeClock
from tests.support.factories import create_user
from tests.support.telegram import texts

ME = 556_000_001
BALANCE_FIELDS = {
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


async def get(client: httpx.AsyncClient, signer: Signer, path: str, **kw: object) -> object:
    language = str(kw.pop("language", "en"))
    response = await client.get(
        path, headers=signer.headers(ME, language=language), params=kw or None
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("language", "name"), [("en", "Trader"), ("ru", "Трейдер")])
async def test_balance_has_exactly_the_spec_fields(
    client: httpx.AsyncClient,
    signer: Signer,
    api_context: AppContext,
    clock: FakeClock,
    language: str,
    name: str,
) -> None:
    await get(client, signer, "/api/points/balance", language=language)  # registers
    points = api_context.points
    await points.claim_daily_login(user_id=ME)  # 100, streak 1
    await points.admin_grant(user_id=ME, amount=2900, admin_id=ADMIN_ID)
    await points.admin_deduct(user_id=ME, amount=500, admin_id=ADMIN_ID)
    body = await get(client, signer, "/api/points/balance", language=language)
    assert body == {
        "balance": 2500,
        "lifetime_earned": 3000,
        "lifetime_spent": 500,
        "level": 2,
        "level_name": name,
        "level_icon": "📈",
        "earning_multiplier": 1.1,
        "current_streak": 1,
        "longest_streak": 1,
        "next_level_points": 2000,
        "progress_to_next_level": 0.5,
    }
    assert set(body) == BALANCE_FIELDS  # type: ignore[arg-type]


async def test_balance_equals_what_points_shows(
    api_context: AppContext, signer: Signer, clock: FakeClock
) -> None:
    harness = harness_for(api_context)
    await harness.send("/start", user_id=ME, language_code="ru")  # daily bonus, streak 1
    await api_context.points.admin_grant(user_id=ME, amount=16_234, admin_id=ADMIN_ID)
    await harness.send("что такое биткоин?", user_id=ME, language_code="ru")  # level 4: +13
    (card,) = texts(await harness.send("/points", user_id=ME, language_code="ru"))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app(api_context)), base_url="http://t"
    ) as client:
        body = await get(client, signer, "/api/points/balance", language="ru")
    assert isinstance(body, dict)

    def number(pattern: str) -> int:
        found = re.search(pattern, card)
        assert found, f"{pattern!r} not in {card!r}"
        return int(re.sub(r"\D", "", found[1]))

    assert number(r"Баланс: <b>([\d\s\u00a0]+)</b>") == body["balance"] == 16_347
    assert number(r"\(уровень (\d)") == body["level"] == 4
    assert f"{body['level_icon']} <b>{body['level_name']}</b>" in card
    assert number(r"Серия: (\d+)") == body["current_streak"] == 1
    assert number(r"(\d+)%") == int(body["progress_to_next_level"] * 100)


def _app(context: AppContext) -> object:
    from tests.api.conftest import app_for

    return app_for(context)


async def test_history_newest_first_with_labels_and_paging(
    client: httpx.AsyncClient, signer: Signer, api_context: AppContext, clock: FakeClock
) -> None:
    await get(client, signer, "/api/points/balance", language="ru")
    points = api_context.points
    await points.claim_daily_login(user_id=ME)  # 100 -> 100
    clock.advance(seconds=1)
    await points.award_request(user_id=ME, action="earn_text_request", key="q1")  # 110
    clock.advance(seconds=1)
    await points.award_request(user_id=ME, action="earn_text_request", key="q2")  # refused
    await points.spend(user_id=ME, amount=30, key="s1")  # 80

    body = await get(client, signer, "/api/points/history", language="ru")
    assert isinstance(body, dict)
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
    items = body["items"]
    assert [(i["type"], i["amount"], i["balance_after"], i["label"]) for i in items] == [
        ("spend", -30, 80, "🛒 Потрачено"),
        ("earn_text_request", 10, 110, "💬 Ответ ИИ"),
        ("earn_daily_login", 100, 100, "🎁 Ежедневный бонус"),
    ]
    assert set(items[0]) == {"id", "type", "label", "amount", "balance_after", "created_at"}
    assert datetime.fromisoformat(items[1]["created_at"]) == clock.current - _seconds(1)
    assert items[0]["id"] > items[1]["id"] > items[2]["id"]

    # The stored language (ru, from the first visit) wins over a later init data's language.
    page = await get(client, signer, "/api/points/history", limit=1, offset=1, language="en")
    assert isinstance(page, dict)
    assert [i["label"] for i in page["items"]] == ["💬 Ответ ИИ"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    past_end = await get(client, signer, "/api/points/history", offset=10)
    assert isinstance(past_end, dict)
    assert past_end["items"] == [] and past_end["total"] == 3


def _seconds(n: int) -> object:
    from datetime import timedelta

    return timedelta(seconds=n)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("history", {"limit": 0}),
        ("history", {"limit": 101}),
        ("history", {"limit": -1}),
        ("history", {"offset": -1}),
        ("history", {"limit": "ten"}),
        ("history", {"offset": 10**9 + 1}),
        ("leaderboard", {"limit": 0}),
        ("leaderboard", {"limit": 101}),
        ("leaderboard", {"limit": "1.5"}),
        ("history", {"limt": 5}),  # unknown parameters are refused, not ignored
        ("balance", {"page": 2}),
        ("stats", {"user_id": 1}),
    ],
)
async def test_bounds_are_422(
    client: httpx.AsyncClient, signer: Signer, path: str, params: dict[str, object]
) -> None:
    response = await client.get(f"/api/points/{path}", params=params, headers=signer.headers(ME))
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"][0] == "query" and error["loc"][1] in params


@pytest.mark.parametrize(
    ("path", "limit"), [("history", 1), ("history", 100), ("leaderboard", 1), ("leaderboard", 100)]
)
async def test_bounds_inclusive(
    client: httpx.AsyncClient, signer: Signer, path: str, limit: int
) -> None:
    body = await get(client, signer, f"/api/points/{path}", limit=limit)
    assert isinstance(body, dict)


async def test_leaderboard_ranks_names_icons_and_own_place(
    client: httpx.AsyncClient,
    signer: Signer,
    api_context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    points = api_context.points
    amounts = [60_000, 20_000, 6_000, 1_500, 10]
    others = [await create_user(sessions, first_name=None, username=f"trader{i}") for i in range(5)]
    for uid, amount in zip(others, amounts, strict=True):
        await points.admin_grant(user_id=uid, amount=amount, admin_id=ADMIN_ID)
    await get(client, signer, "/api/points/balance")
    await points.admin_grant(user_id=ME, amount=1_000, admin_id=ADMIN_ID)

    body = await get(client, signer, "/api/points/leaderboard", limit=3)
    assert isinstance(body, dict)
    assert body["entries"] == [
        {
            "rank": 1,
            "display_name": "@trader0",
            "balance": 60_000,
            "level": 5,
            "level_icon": "💎",
            "is_me": False,
        },
        {
            "rank": 2,
            "display_name": "@trader1",
            "balance": 20_000,
            "level": 4,
            "level_icon": "⭐",
            "is_me": False,
        },
        {
            "rank": 3,
            "display_name": "@trader2",
            "balance": 6_000,
            "level": 3,
            "level_icon": "🔍",
            "is_me": False,
        },
    ]
    assert body["me"] == {
        "rank": 5,
        "display_name": "Test",
        "balance": 1_000,
        "level": 2,
        "level_icon": "📈",
        "is_me": True,
    }
    full = await get(client, signer, "/api/points/leaderboard")
    assert isinstance(full, dict)
    assert [e["rank"] for e in full["entries"]] == [1, 2, 3, 4, 5, 6]
    assert [e["is_me"] for e in full["entries"]] == [False] * 4 + [True, False]
    assert full["me"]["rank"] == 5


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("en", ["Beginner", "Trader", "Analyst", "Expert", "Master", "Legend"]),
        ("ru", ["Новичок", "Трейдер", "Аналитик", "Эксперт", "Мастер", "Легенда"]),
    ],
)
async def test_levels_all_six_with_mine_marked(
    client: httpx.AsyncClient,
    signer: Signer,
    api_context: AppContext,
    language: str,
    names: list[str],
) -> None:
    await get(client, signer, "/api/points/balance", language=language)
    await api_context.points.admin_grant(user_id=ME, amount=5_000, admin_id=ADMIN_ID)
    body = await get(client, signer, "/api/points/levels", language=language)
    assert isinstance(body, dict)
    assert body["current_level"] == 3
    levels = body["levels"]
    assert [lvl["name"] for lvl in levels] == names
    assert [lvl["icon"] for lvl in levels] == ["🌱", "📈", "🔍", "⭐", "💎", "👑"]
    assert [lvl["points_required"] for lvl in levels] == [0, 1000, 5000, 15000, 50000, 150000]
    assert [lvl["earning_multiplier"] for lvl in levels] == [1.0, 1.1, 1.2, 1.3, 1.5, 2.0]
    assert [lvl["current"] for lvl in levels] == [False, False, True, False, False, False]
    assert [lvl["reached"] for lvl in levels] == [True, True, True, False, False, False]
    assert all(re.fullmatch(r"#[0-9A-Fa-f]{6}", lvl["color"]) for lvl in levels)


async def test_stats_by_type_today_streaks_rank_referrals(
    client: httpx.AsyncClient,
    signer: Signer,
    api_context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await get(client, signer, "/api/points/balance")
    points = api_context.points
    users = UserService(session_factory=sessions)
    code = (await users.get(ME)).referral_code  # type: ignore[union-attr]
    friend = await create_user(sessions)
    await users.attach_referrer(user_id=friend, code=code, brand_new=True)
    await points.award_referral_signup(referrer_id=ME, referred_id=friend)  # +500
    await points.claim_daily_login(user_id=ME)  # +100
    clock.advance(days=1)
    await points.claim_daily_login(user_id=ME)  # +50, streak 2
    await points.award_request(user_id=ME, action="earn_text_request", key="a")  # +10 today
    clock.advance(seconds=10)
    await points.award_request(user_id=ME, action="earn_chart_request", key="b")  # +15 today
    await points.spend(user_id=ME, amount=5, key="s")
    rich = await create_user(sessions)
    await points.admin_grant(user_id=rich, amount=10_000, admin_id=ADMIN_ID)

    body = await get(client, signer, "/api/points/stats")
    assert body == {
        "by_type": [
            {"type": "earn_referral_signup", "label": "👥 Friend joined", "count": 1, "total": 500},
            {"type": "earn_daily_login", "label": "🎁 Daily bonus", "count": 2, "total": 150},
            {"type": "earn_chart_request", "label": "📈 Chart analysis", "count": 1, "total": 15},
            {"type": "earn_text_request", "label": "💬 AI answer", "count": 1, "total": 10},
            {"type": "spend", "label": "🛒 Spent", "count": 1, "total": -5},
        ],
        "transactions": 6,
        "total_earned": 675,
        "total_spent": 5,
        "today": {"earned": 25, "cap": 10_000, "remaining": 9_975},
        "streak": {"current": 2, "longest": 2},
        "rank": 2,
        "referrals": 1,
    }
    clock.advance(days=1)  # a new day: today's request earnings start again
    later = await get(client, signer, "/api/points/stats")
    assert isinstance(later, dict)
    assert later["today"] == {"earned": 0, "cap": 10_000, "remaining": 10_000}
