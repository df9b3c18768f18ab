"""Text of the points screens: data and a Translator in, HTML out. No I/O here."""

from __future__ import annotations

import math
from datetime import timedelta
from html import escape
from zoneinfo import ZoneInfo

from config.points_config import PointsRules, RequestAction, Tier
from src.bot.views.quotas import quota_usage_line
from src.locales import Translator, transaction_label
from src.locales.dates import day_month_time
from src.locales.numbers import multiplier, signed
from src.services.points_types import (
    BalanceView,
    HistoryPage,
    Leaderboard,
    PersonalRates,
    PointsOutcome,
    UserStats,
)
from src.services.quota_types import QuotaUsage

BAR_CELLS = 10
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def progress_bar(share: float) -> str:
    filled = min(BAR_CELLS, max(0, math.floor(share * BAR_CELLS + 1e-9)))
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def level_name(rules: PointsRules, level: int, language: str) -> tuple[str, str]:
    rule = rules.level(level)
    return rule.icon, rule.name(language)


def points_card(
    t: Translator,
    *,
    balance: BalanceView,
    stats: UserStats,
    rules: PointsRules,
    invite_link: str,
    quota: QuotaUsage | None = None,
) -> str:
    lines = [
        t("points-title"),
        "",
        t("points-balance", balance=balance.balance),
        t(
            "points-level",
            icon=balance.level_icon,
            name=balance.level_name,
            level=balance.level,
            multiplier=multiplier(balance.earning_multiplier, t.language),
        ),
        # What "N points to the next level" is computed from: not the balance, which spending
        # lowers, but everything ever earned.
        t("points-lifetime", earned=balance.lifetime_earned),
        t(
            "points-progress",
            bar=progress_bar(balance.progress_to_next_level),
            percent=math.floor(balance.progress_to_next_level * 100),
        ),
    ]
    if balance.level < rules.max_level:
        icon, name = level_name(rules, balance.level + 1, t.language)
        lines.append(t("points-to-next", missing=balance.next_level_points, icon=icon, name=name))
    else:
        lines.append(t("points-top-level"))
    lines += [
        "",
        t("points-streak", streak=balance.current_streak, longest=balance.longest_streak),
        t("points-rank", rank=stats.rank),
        t("points-today", earned=stats.earned_today, cap=stats.daily_cap),
    ]
    if quota is not None:  # None: the quotas could not be read just now
        lines.append(quota_usage_line(t, quota))
    lines += ["", t("points-invite", link=invite_link)]
    return "\n".join(lines)


def history_text(t: Translator, page: HistoryPage, *, timezone: str) -> str:
    if page.total == 0:
        return t("history-empty")
    pages = max(1, math.ceil(page.total / page.limit))
    zone = ZoneInfo(timezone)
    lines = [t("history-title", page=page.offset // page.limit + 1, pages=pages), ""]
    for entry in page.entries:
        lines.append(
            t(
                "history-line",
                date=day_month_time(entry.created_at.astimezone(zone), t.language),
                type=transaction_label(t, entry.transaction_type),
                amount=signed(entry.amount, t.language),
                balance=entry.balance_after,
            )
        )
    return "\n".join(lines)


def leaderboard_text(t: Translator, board: Leaderboard, rules: PointsRules) -> str:
    if not board.top:
        return "\n".join([t("top-title"), "", t("top-empty")])
    lines = [t("top-title"), ""]
    for entry in board.top:
        lines.append(
            t(
                "top-line",
                place=MEDALS.get(entry.rank, f"{entry.rank}."),
                name=escape(entry.display_name),
                balance=entry.balance,
                icon=rules.level(min(entry.level, rules.max_level)).icon,
            )
        )
    if board.me is not None:
        lines += ["", t("top-me", rank=board.me.rank, balance=board.me.balance)]
    return "\n".join(lines)


def how_to_earn_text(t: Translator, rates: PersonalRates, rules: PointsRules) -> str:
    subs = rules.subscription_points_per_month
    lines = [
        t("earn-title"),
        "",
        t(
            "earn-multipliers",
            level_mult=multiplier(rates.level_multiplier, t.language),
            tier=rates.tier,
            tier_mult=multiplier(rates.tier_multiplier, t.language),
        ),
        t("earn-requests"),
        t("earn-text", amount=rates.requests[RequestAction.TEXT]),
        t("earn-vision", amount=rates.requests[RequestAction.VISION]),
        t("earn-chart", amount=rates.requests[RequestAction.CHART]),
        "",
        t("earn-daily", amount=rules.daily_login_points),
    ]
    lines += [
        t("earn-streak-line", day=day, bonus=bonus)
        for day, bonus in sorted(rules.streak_bonuses.items())
    ]
    lines += [
        "",
        t(
            "earn-referrals",
            signup=rules.referral_signup_points,
            purchase=rules.referral_purchase_points,
        ),
        t(
            "earn-subscriptions",
            basic=subs[Tier.BASIC],
            premium=subs[Tier.PREMIUM],
            vip=subs[Tier.VIP],
        ),
        t(
            "earn-limits",
            text=_seconds(rules.requests[RequestAction.TEXT].min_interval_seconds),
            vision=_seconds(rules.requests[RequestAction.VISION].min_interval_seconds),
            cap=rules.max_daily_points_earning,
        ),
    ]
    return "\n".join(lines)


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def levels_text(t: Translator, rules: PointsRules, balance: BalanceView) -> str:
    lines = [t("level-title"), ""]
    for rule in rules.levels:
        line = t(
            "level-line",
            icon=rule.icon,
            name=rule.name(t.language),
            required=rule.points_required,
            multiplier=multiplier(rule.earning_multiplier, t.language),
        )
        lines.append(t("level-you", line=line) if rule.level == balance.level else line)
    lines += ["", t("points-lifetime", earned=balance.lifetime_earned)]
    if balance.level >= rules.max_level:
        lines.append(t("level-max"))
    else:
        icon, name = level_name(rules, balance.level + 1, t.language)
        lines.append(t("level-missing", missing=balance.next_level_points, icon=icon, name=name))
    return "\n".join(lines)


def level_up_text(t: Translator, outcome: PointsOutcome, rules: PointsRules) -> str:
    rule = rules.level(outcome.level_after)
    return t(
        "level-up",
        icon=rule.icon,
        name=rule.name(t.language),
        level=rule.level,
        multiplier=multiplier(rule.earning_multiplier, t.language),
    )


def daily_text(
    t: Translator, outcome: PointsOutcome, rules: PointsRules, *, next_day_in: timedelta
) -> str:
    streak = outcome.streak or 0
    if outcome.duplicate:
        left = next_day_in.total_seconds()
        hours, minutes = int(left // 3600), int(left % 3600 // 60)
        return t("daily-already", streak=streak, hours=hours, minutes=minutes)
    lines = [t("daily-claimed", amount=outcome.amount), t("daily-streak-line", streak=streak)]
    bonus = rules.streak_bonus(streak)
    if bonus:
        lines.append(t("daily-bonus-line", bonus=bonus))
    upcoming = [d for d in sorted(rules.streak_bonuses) if d > streak]
    if upcoming:
        lines.append(
            t("daily-next-milestone", bonus=rules.streak_bonuses[upcoming[0]], day=upcoming[0])
        )
    return "\n".join(lines)
