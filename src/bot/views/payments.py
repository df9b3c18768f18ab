"""Texts of /subscribe and of payment messages: data and a Translator in, HTML out. No I/O."""

from __future__ import annotations

import html
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from config.payment_rules import PAID_TIERS
from config.points_config import PointsRules, Tier
from src.locales import Translator
from src.locales.dates import day_month
from src.locales.numbers import grouped, multiplier
from src.services.payment_providers import Invoice
from src.services.payment_types import Provider, SubscriptionState


def until(moment: datetime, language: str, timezone: str) -> str:
    """`10 Apr 2026` in the configured zone: an expiry always shows its year."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{day_month(local, language)} {local:%Y}"


def price_text(price: Decimal, language: str) -> str:
    """250 / 4.99 / 2.8: no trailing zeros; a decimal comma in Russian."""
    text = format(price.normalize(), "f")
    if "." not in text:
        return grouped(int(text), language)
    return text.replace(".", ",") if language == "ru" else text


def current_plan(t: Translator, state: SubscriptionState, timezone: str) -> str:
    if state.tier == Tier.FREE or state.expires_at is None:
        return t("sub-current-free")
    line = t(
        "sub-current-paid", tier=state.tier, until=until(state.expires_at, t.language, timezone)
    )
    if state.stars_subscription is not None:
        key = "sub-stars-canceled" if state.stars_subscription_canceled else "sub-stars-renews"
        line += "\n" + t(key)
    return line


def subscribe_text(
    t: Translator, state: SubscriptionState, rules: PointsRules, timezone: str
) -> str:
    args: dict[str, str] = {}
    for tier in PAID_TIERS:
        args[f"{tier.lower()}_mult"] = multiplier(rules.tier_multipliers[Tier(tier)], t.language)
        args[f"{tier.lower()}_bonus"] = grouped(
            rules.subscription_points_per_month[Tier(tier)], t.language
        )
    return t("sub-intro", current=current_plan(t, state, timezone), **args)


def method_button(t: Translator, method: str, price: Decimal, currency: str) -> str:
    """The text of a payment method's button, with its price."""
    shown = price_text(price, t.language)
    if method == "stars_monthly":
        return t("sub-method-stars-monthly", price=shown)
    if method == Provider.TON:
        return t("sub-method-ton", price=shown)
    if method == Provider.NOWPAYMENTS:
        return t("sub-method-nowpayments", price=shown, currency=currency)
    return t("sub-method-stars", price=shown)


def transfer_details(t: Translator, invoice: Invoice) -> str:
    """What a transfer made by hand needs (TON: amount, address, comment, link), or ""."""
    if not (invoice.address and invoice.comment and invoice.transfer_link):
        return ""
    amount = price_text(invoice.amount, t.language) if invoice.amount is not None else ""
    details = t(
        "pay-ton-details",
        amount=amount,
        address=invoice.address,
        comment=invoice.comment,
        link=html.escape(invoice.transfer_link),  # & must be &amp; in Telegram HTML
    )
    return "\n\n" + details
