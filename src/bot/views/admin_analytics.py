"""Text of the analytics screens: AnalyticsService's figures and a Translator in, HTML out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from config.points_config import PointsRules
from src.bot.keyboards.admin import AnalyticsSection
from src.bot.views.points import MEDALS, level_name
from src.locales import Translator
from src.locales.dates import full_date_time
from src.locales.numbers import decimal, percent, signed
from src.services.analytics_service import (
    DailyPoint,
    Last24h,
    LevelCount,
    Overview,
    StreakStats,
    TypeTotal,
)
from src.services.points_types import LeaderboardEntry


def analytics_text(
    t: Translator,
    section: AnalyticsSection,
    body: list[str],
    *,
    now: datetime,
    timezone: str,
) -> str:
    lines = [t("admin-an-title", section=t(f"admin-an-tab-{section.value}"))]
    stamp = full_date_time(now.astimezone(ZoneInfo(timezone)), t.language)
    return "\n".join([*lines, "", *body, "", t("admin-an-updated", time=f"{stamp} ({timezone})")])


def overview_lines(t: Translator, data: Overview) -> list[str]:
    return [
        t("admin-an-users", count=data.users_total, with_balance=data.users_with_balance),
        t("admin-an-circulation", points=data.circulation),
        t("admin-an-earned", points=data.lifetime_earned),
        t("admin-an-spent", points=data.lifetime_spent),
    ]


def day_lines(t: Translator, data: Last24h) -> list[str]:
    return [
        t("admin-an-day-earned", points=data.earned),
        t("admin-an-day-spent", points=data.spent),
        t("admin-an-day-transactions", count=data.transactions),
        t("admin-an-day-active", count=data.active_users),
        t("admin-an-day-new", count=data.new_users),
    ]


def types_lines(t: Translator, data: Sequence[TypeTotal]) -> list[str]:
    if not data:
        return [t("admin-an-empty")]
    lines = []
    for row in data:
        key = f"tx-{row.transaction_type}"
        lines.append(
            t(
                "admin-an-type",
                type=t(key) if t.has(key) else escape(row.transaction_type),
                count=row.count,
                total=signed(row.total, t.language),
            )
        )
    return lines


def levels_lines(t: Translator, data: Sequence[LevelCount], rules: PointsRules) -> list[str]:
    if not data:
        return [t("admin-an-empty")]
    lines = []
    for row in data:
        icon, name = level_name(rules, min(max(row.level, 1), rules.max_level), t.language)
        lines.append(
            t(
                "admin-an-level",
                icon=icon,
                name=name,
                users=row.users,
                share=percent(row.share, t.language),
            )
        )
    return lines


def streaks_lines(t: Translator, data: StreakStats) -> list[str]:
    lines = [
        t("admin-an-streak-active", count=data.active),
        t("admin-an-streak-average", days=decimal(data.average, t.language)),
        t("admin-an-streak-longest", days=data.longest),
        "",
        t("admin-an-streak-bands"),
    ]
    lines += [t("admin-an-streak-band", band=band, users=users) for band, users in data.bands]
    return lines


def top_lines(t: Translator, data: Sequence[LeaderboardEntry], rules: PointsRules) -> list[str]:
    if not data:
        return [t("admin-an-empty")]
    return [
        t(
            "admin-an-top",
            place=MEDALS.get(entry.rank, f"{entry.rank}."),
            name=escape(entry.display_name),
            id=str(entry.user_id),
            balance=entry.balance,
            icon=rules.level(min(max(entry.level, 1), rules.max_level)).icon,
        )
        for entry in data
    ]


def chart_caption(t: Translator, series: Sequence[DailyPoint], *, days: int, timezone: str) -> str:
    return t(
        "admin-chart-caption",
        days=days,
        timezone=timezone,
        earned=sum(p.earned for p in series),
        spent=sum(p.spent for p in series),
    )
