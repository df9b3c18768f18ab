"""Plans and prices in the rules, and the tier arithmetic of a purchase (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from config.points_config import DEFAULT_RULES, PointsConfigError, load_points_rules
from src.services.tier_math import is_downgrade, new_span

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MONTHLY = {"BASIC": Decimal(250), "PREMIUM": Decimal(750), "VIP": Decimal(1500)}


def test_default_prices_per_method() -> None:
    stars = DEFAULT_RULES.payments.price_list("stars")
    assert stars.currency == "XTR"
    assert [stars.price(t, 1) for t in ("BASIC", "PREMIUM", "VIP")] == [250, 750, 1500]
    usd = DEFAULT_RULES.payments.price_list("nowpayments")
    assert (usd.currency, usd.price("PREMIUM", 1)) == ("USD", Decimal("14.99"))
    ton = DEFAULT_RULES.payments.price_list("ton")
    assert (ton.currency, ton.price("VIP", 1)) == ("TON", Decimal(6))


def test_prices_are_overridden_from_the_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("[payments.providers.stars.prices.BASIC]\n1 = 300\n3 = 800\n12 = 3000\n")
    rules = load_points_rules(path)
    assert rules.payments.price_list("stars").price("BASIC", 1) == 300
    assert rules.payments.price_list("stars").price("VIP", 12) == 15000  # untouched


@pytest.mark.parametrize(
    "body",
    [
        "[payments.providers.stars.prices.BASIC]\n1 = 2.5\n",  # Stars are whole
        "[payments.providers.ton.prices.VIP]\n1 = 0\n",  # a price must be > 0
        "[payments.providers.ton.prices.VIP]\n2 = 5\n",  # only 1, 3, 12 months
    ],
)
def test_bad_prices_are_refused_at_start(tmp_path: Path, body: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(body)
    with pytest.raises(PointsConfigError, match="payments"):
        load_points_rules(path)


def span(current: str, days_left: float | None, tier: str, months: int) -> tuple[str, float]:
    expires = NOW + timedelta(days=days_left) if days_left is not None else None
    result = new_span(
        current_tier=current,
        current_expires=expires,
        tier=tier,
        months=months,
        now=NOW,
        monthly=MONTHLY,
    )
    return result.tier, (result.end - NOW) / timedelta(days=1)


def test_tier_arithmetic() -> None:
    assert span("FREE", None, "BASIC", 1) == ("BASIC", 30)
    assert span("BASIC", -5, "BASIC", 3) == ("BASIC", 90)  # expired: from now
    assert span("BASIC", 10, "BASIC", 1) == ("BASIC", 40)  # extends from the expiry
    assert span("BASIC", 30, "VIP", 1) == ("VIP", 35)  # 30 BASIC days = 5 VIP days
    assert span("PREMIUM", 30, "VIP", 12) == ("VIP", 375)  # 30 x 750/1500 = 15 extra
    assert span("VIP", 10, "BASIC", 1) == ("VIP", 15)  # paid anyway: 30 x 250/1500 = 5
    assert is_downgrade(
        current_tier="VIP", current_expires=NOW + timedelta(1), tier="BASIC", now=NOW
    )
    assert not is_downgrade(current_tier="VIP", current_expires=NOW, tier="BASIC", now=NOW)
