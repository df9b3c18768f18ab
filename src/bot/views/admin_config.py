"""Text of /points_config: the rules in force, one section per tab. No I/O here."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path

from config.points_config import PointsRules, RequestAction
from src.bot.keyboards.admin import ConfigSection
from src.bot.views.quotas import quota_table
from src.locales import Translator
from src.locales.numbers import multiplier


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _rates(t: Translator, rules: PointsRules) -> list[str]:
    lines = [
        t(
            "admin-config-request",
            label=t(f"tx-{action.value}"),
            points=rules.requests[action].base_points,
        )
        for action in RequestAction
    ]
    lines += [
        t("admin-config-daily", points=rules.daily_login_points),
        t("admin-config-referral-signup", points=rules.referral_signup_points),
        t("admin-config-referral-purchase", points=rules.referral_purchase_points),
    ]
    lines += [
        t("admin-config-subscription", tier=tier.value, points=per_month)
        for tier, per_month in rules.subscription_points_per_month.items()
    ]
    return lines


def _tiers(t: Translator, rules: PointsRules) -> list[str]:
    multipliers = [
        t("admin-config-tier", tier=tier.value, multiplier=multiplier(mult, t.language))
        for tier, mult in rules.tier_multipliers.items()
    ]
    return [t("admin-config-tiers-note"), *multipliers, "", *quota_table(t, rules)]


def _streaks(t: Translator, rules: PointsRules) -> list[str]:
    return [t("admin-config-streaks-note")] + [
        t("admin-config-streak", day=day, bonus=bonus)
        for day, bonus in sorted(rules.streak_bonuses.items())
    ]


def _limits(t: Translator, rules: PointsRules) -> list[str]:
    lines = [
        t(
            "admin-config-interval",
            label=t(f"tx-{action.value}"),
            seconds=_seconds(rules.requests[action].min_interval_seconds),
        )
        for action in RequestAction
    ]
    return [
        *lines,
        t("admin-config-daily-cap", cap=rules.max_daily_points_earning),
        t(
            "admin-config-admin-limits",
            maximum=rules.admin_max_amount,
            threshold=rules.admin_confirm_threshold,
        ),
        t("admin-config-description-limit", limit=rules.max_description_length),
    ]


def _levels(t: Translator, rules: PointsRules) -> list[str]:
    return [
        t(
            "admin-config-level",
            icon=level.icon,
            level=level.level,
            name=level.name(t.language),
            required=level.points_required,
            multiplier=multiplier(level.earning_multiplier, t.language),
        )
        for level in rules.levels
    ]


SECTIONS: dict[ConfigSection, Callable[[Translator, PointsRules], list[str]]] = {
    ConfigSection.RATES: _rates,
    ConfigSection.TIERS: _tiers,
    ConfigSection.STREAKS: _streaks,
    ConfigSection.LIMITS: _limits,
    ConfigSection.LEVELS: _levels,
}


def config_text(
    t: Translator, section: ConfigSection, rules: PointsRules, *, override: Path | None
) -> str:
    title = t("admin-config-title", section=t(f"admin-config-tab-{section.value}"))
    footer = (
        t("admin-config-override", path=escape(str(override)))
        if override is not None
        else t("admin-config-defaults")
    )
    return "\n".join([title, "", *SECTIONS[section](t, rules), "", footer])
