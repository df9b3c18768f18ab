"""GET /api/points/*: the caller's balance, history, the leaderboard, levels and stats (SPEC 7).

Thin: every figure comes from PointsService; this module only shapes it and localises labels.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from src.api.deps import SECURED, CallerDep
from src.api.errors import UNKNOWN_QUERY, documented
from src.api.schemas import (
    BalanceOut,
    HistoryItem,
    HistoryOut,
    LeaderboardItem,
    LeaderboardOut,
    LevelItem,
    LevelsOut,
    StatsOut,
    StreaksOut,
    TodayOut,
    TypeTotal,
)
from src.locales import transaction_label
from src.services.points_math import MAX_PAGE
from src.services.points_types import LeaderboardEntry

MAX_OFFSET = 10**9


def create_router() -> APIRouter:
    router = APIRouter(
        prefix="/api/points",
        tags=["points"],
        responses={**documented(401, 429, 503), **UNKNOWN_QUERY},
    )
    for path, endpoint, model in (
        ("/balance", balance, BalanceOut),
        ("/history", history, HistoryOut),
        ("/leaderboard", leaderboard, LeaderboardOut),
        ("/levels", levels, LevelsOut),
        ("/stats", stats, StatsOut),
    ):
        router.add_api_route(
            path, endpoint, methods=["GET"], response_model=model, openapi_extra=SECURED
        )
    return router


def as_json(body: BaseModel) -> Response:
    """The body already validated by its model, serialised once: FastAPI would validate and
    serialise it again through `response_model` (which stays, for the OpenAPI document)."""
    return Response(body.model_dump_json(), media_type="application/json")


async def balance(caller: CallerDep) -> Response:
    """The caller's balance, level and streak: exactly the SPEC 7 fields."""
    view = await caller.points.get_balance(
        user_id=caller.user.telegram_id, language=caller.t.language
    )
    fields = {name: getattr(view, name) for name in BalanceOut.model_fields}
    fields["earning_multiplier"] = float(view.earning_multiplier)
    return as_json(BalanceOut(**fields))


async def history(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HistoryOut:
    """The caller's points movements, newest first."""
    t = caller.t
    page = await caller.points.get_history(
        user_id=caller.user.telegram_id, limit=limit, offset=offset
    )
    items = [
        HistoryItem(
            id=e.id,
            type=e.transaction_type,
            label=transaction_label(t, e.transaction_type),
            amount=e.amount,
            balance_after=e.balance_after,
            created_at=e.created_at,
        )
        for e in page.entries
    ]
    return HistoryOut(items=items, total=page.total, limit=page.limit, offset=page.offset)


async def leaderboard(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> LeaderboardOut:
    """The top `limit` balances and the caller's own place."""
    user, points = caller.user, caller.points
    board = await points.get_leaderboard(limit=limit, user_id=user.telegram_id)
    assert board.me is not None  # a registered user always has a balance row

    def item(entry: LeaderboardEntry) -> LeaderboardItem:
        rules = points.rules
        return LeaderboardItem(
            rank=entry.rank,
            display_name=entry.display_name,
            balance=entry.balance,
            level=entry.level,
            level_icon=rules.level(min(entry.level, rules.max_level)).icon,
            is_me=entry.user_id == user.telegram_id,
        )

    return LeaderboardOut(entries=[item(e) for e in board.top], me=item(board.me))


async def levels(caller: CallerDep) -> LevelsOut:
    """All six levels, the caller's marked."""
    points, t = caller.points, caller.t
    view = await points.get_balance(user_id=caller.user.telegram_id, language=t.language)
    return LevelsOut(
        current_level=view.level,
        levels=[
            LevelItem(
                level=lvl.level,
                name=lvl.name_ru if t.language == "ru" else lvl.name_en,
                icon=lvl.icon,
                points_required=lvl.points_required,
                earning_multiplier=float(lvl.earning_multiplier),
                color=lvl.color,
                current=lvl.level == view.level,
                reached=lvl.level <= view.level,
            )
            for lvl in points.get_levels()
        ],
    )


async def stats(caller: CallerDep) -> StatsOut:
    """Earned by type, today's request earnings against the cap, streaks, rank, referrals."""
    t = caller.t
    s = await caller.points.get_stats(user_id=caller.user.telegram_id)
    by_type = [
        TypeTotal(
            type=kind,
            label=transaction_label(t, kind),
            count=value.count,
            total=value.total,
        )
        for kind, value in sorted(s.by_type.items(), key=lambda kv: (-abs(kv[1].total), kv[0]))
    ]
    return StatsOut(
        by_type=by_type,
        transactions=s.transactions,
        total_earned=s.total_earned,
        total_spent=s.total_spent,
        today=TodayOut(
            earned=s.earned_today,
            cap=s.daily_cap,
            remaining=max(s.daily_cap - s.earned_today, 0),
        ),
        streak=StreaksOut(current=s.current_streak, longest=s.longest_streak),
        rank=s.rank,
        referrals=s.referrals,
    )
