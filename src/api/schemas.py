"""Response bodies of the points API: field names are the contract (SPEC 7), texts localised."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BalanceOut(_Out):
    """Exactly the SPEC 7 field set; `level_name` in the user's language."""

    balance: int
    lifetime_earned: int
    lifetime_spent: int
    level: int = Field(ge=1)
    level_name: str
    level_icon: str
    earning_multiplier: float
    current_streak: int = Field(ge=0)
    longest_streak: int = Field(ge=0)
    next_level_points: int = Field(ge=0, description="points still to earn; 0 at the top level")
    progress_to_next_level: float = Field(ge=0, le=1, description="share of the current band")


class HistoryItem(_Out):
    id: int
    type: str = Field(description="transaction_type, e.g. earn_text_request")
    label: str = Field(description="the type in the user's language")
    amount: int = Field(description="signed: + earned, - spent")
    balance_after: int
    created_at: datetime


class HistoryOut(_Out):
    items: list[HistoryItem] = Field(description="newest first")
    total: int
    limit: int
    offset: int


class LeaderboardItem(_Out):
    rank: int = Field(ge=1)
    display_name: str
    balance: int
    level: int
    level_icon: str
    is_me: bool


class LeaderboardOut(_Out):
    entries: list[LeaderboardItem]
    me: LeaderboardItem = Field(description="the caller's own place, in the top or not")


class LevelItem(_Out):
    level: int
    name: str = Field(description="in the user's language")
    icon: str
    points_required: int
    earning_multiplier: float
    color: str
    current: bool = Field(description="the caller's level")
    reached: bool


class LevelsOut(_Out):
    current_level: int
    levels: list[LevelItem]


class TypeTotal(_Out):
    type: str
    label: str
    count: int
    total: int


class TodayOut(_Out):
    earned: int = Field(description="points from requests today (the daily cap counts these)")
    cap: int
    remaining: int


class StreaksOut(_Out):
    current: int
    longest: int


class StatsOut(_Out):
    by_type: list[TypeTotal]
    transactions: int
    total_earned: int
    total_spent: int
    today: TodayOut
    streak: StreaksOut
    rank: int
    referrals: int


class TextsOut(_Out):
    language: str
    texts: dict[str, str]


class HealthOut(_Out):
    status: str
    database: str
