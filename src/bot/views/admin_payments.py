"""Admin texts about payments: the analytics section, the user card's purchases, refunds."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from config.payment_rules import PAID_TIERS
from src.bot.views.payments import price_text
from src.locales import Translator
from src.locales.dates import day_month_time
from src.locales.numbers import grouped
from src.services.payment_views import PaymentLine, PaymentsSummary, UserPayments


def _when(moment: datetime, zone: ZoneInfo, language: str) -> str:
    return day_month_time(moment.astimezone(zone), language)


def summary_lines(t: Translator, summary: PaymentsSummary, timezone: str) -> list[str]:
    zone = ZoneInfo(timezone)
    lines = [t("admin-pay-revenue")]
    if not summary.revenue:
        lines.append(t("admin-an-empty"))
    for r in summary.revenue:
        lines.append(
            t(
                "admin-pay-revenue-line",
                provider=r.provider,
                total=price_text(r.total, t.language),
                currency=r.currency,
                count=r.payments,
            )
        )
    subs = " · ".join(f"{tier} {summary.subscribers.get(tier, 0)}" for tier in PAID_TIERS)
    lines += ["", t("admin-pay-subscribers", subscribers=subs)]
    lines.append(t("admin-pay-refunds", count=summary.refunds))
    if summary.problems:
        lines += ["", t("admin-pay-problems")]
        for p in summary.problems:
            lines.append(
                t(
                    "admin-pay-problem-line",
                    date=_when(p.created_at, zone, t.language),
                    provider=p.provider,
                    id=escape(p.provider_payment_id),
                    user=str(p.user_id or "—"),
                    status=t(f"admin-pay-status-{p.status}"),
                    amount=price_text(p.amount, t.language),
                    currency=p.currency,
                    unrecovered=grouped(p.unrecovered, t.language),
                )
            )
    return lines


def payment_line(t: Translator, p: PaymentLine, zone: ZoneInfo) -> str:
    text = t(
        "admin-pay-line",
        date=_when(p.created_at, zone, t.language),
        provider=p.provider,
        tier=p.tier or "—",
        months=p.months,
        amount=price_text(p.amount, t.language),
        currency=p.currency,
        status=t(f"admin-pay-status-{p.status}"),
        id=escape(p.provider_payment_id),
    )
    if p.unrecovered:
        text += t("admin-pay-unrecovered", points=grouped(p.unrecovered, t.language))
    return text


def user_payments_lines(t: Translator, payments: UserPayments, timezone: str) -> list[str]:
    if payments.total == 0:
        return []
    zone = ZoneInfo(timezone)
    lines = ["", t("admin-pay-user-title", count=payments.total)]
    return lines + [payment_line(t, p, zone) for p in payments.payments]


def refund_prompt(t: Translator, p: PaymentLine, timezone: str) -> str:
    return t(
        "admin-refund-prompt",
        line=payment_line(t, p, ZoneInfo(timezone)),
        user=str(p.user_id),
        bonus=grouped(p.bonus, t.language),
    )
