"""Text of the daily quotas: the refusal, the /points line, the admin table. No I/O here."""

from __future__ import annotations

import math

from config.points_config import PointsRules, RequestAction, Tier
from src.locales import Translator
from src.services.quota_types import QuotaSlot, QuotaUsage


def quota_unit(t: Translator, action: RequestAction, count: int) -> str:
    """`30 questions`, `5 изображений`: a count of one action's requests."""
    return t(f"quota-unit-{action.value}", count=count)


def quota_refusal_text(t: Translator, slot: QuotaSlot, *, timezone: str) -> str:
    """Why the request was not served, when the quota resets (bot's zone) and how to get more."""
    if not slot.limit:  # 0: the action is not part of the plan at all
        lines = [t("quota-not-included", tier=slot.tier.value)]
    else:
        minutes_left = math.ceil(slot.resets_in.total_seconds() / 60)
        lines = [
            t(
                "quota-used-up",
                unit=quota_unit(t, slot.action, slot.limit),
                tier=slot.tier.value,
                time=slot.resets_at.strftime("%H:%M"),
                zone=timezone,
                hours=minutes_left // 60,
                minutes=minutes_left % 60,
            )
        ]
    return "\n".join([*lines, t("quota-more")])


def quota_usage_line(t: Translator, usage: QuotaUsage) -> str:
    """`📊 Today: 3/30 questions, 1/5 images, 0/10 charts` (or the unlimited form)."""
    if usage.unlimited:
        items = [quota_unit(t, a.action, a.used) for a in usage.actions]
        return t("points-quota-unlimited", items=", ".join(items))
    parts = [
        t("quota-item-unlimited", unit=quota_unit(t, a.action, a.used))
        if a.limit is None
        else t("quota-item", used=a.used, unit=quota_unit(t, a.action, a.limit))
        for a in usage.actions
    ]
    return t("points-quota", items=", ".join(parts))


def quota_table(t: Translator, rules: PointsRules) -> list[str]:
    """/points_config: every tier's daily quotas."""
    lines = [t("admin-config-quotas-note")]
    for tier in Tier:
        limits = [(action, rules.quota(tier, action)) for action in RequestAction]
        if all(limit is None for _, limit in limits):
            lines.append(t("admin-config-quota-unlimited", tier=tier.value))
            continue
        items = [
            t(f"quota-unlimited-{action.value}") if limit is None else quota_unit(t, action, limit)
            for action, limit in limits
        ]
        lines.append(t("admin-config-quota", tier=tier.value, items=" · ".join(items)))
    return lines
