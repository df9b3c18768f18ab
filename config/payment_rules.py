"""Subscription plans and their prices per payment method: part of the rules (SPEC 9).

Plans are tier x 1, 3 or 12 months. Each method has its own currency and price list; longer
periods are discounted. The operator overrides any of it in the POINTS_CONFIG_FILE under
`[payments]` (deep-merged like the rest of the rules). Provider names are plain strings here
("stars", "nowpayments", "ton"): config/ knows nothing of src/.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

PAID_TIERS: Final = ("BASIC", "PREMIUM", "VIP")  # ascending: the order is the tier's rank
PERIODS: Final = (1, 3, 12)
PROVIDERS: Final = ("stars", "nowpayments", "ton")
DAYS_PER_MONTH: Final = 30  # a Stars subscription period is 2592000 s = 30 days


class PriceList(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str = Field(min_length=1, max_length=16)
    # tier -> months -> price in `currency` (Stars: whole stars)
    prices: dict[str, dict[int, Decimal]]

    def price(self, tier: str, months: int) -> Decimal:
        return self.prices[tier][months]


class PaymentRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    providers: dict[str, PriceList]
    offer_minutes: int = Field(default=30, ge=1, le=24 * 60)  # a pending purchase's lifetime
    reminder_days_before: int = Field(default=3, ge=1, le=30)

    @model_validator(mode="after")
    def _check(self) -> PaymentRules:
        if set(self.providers) != set(PROVIDERS):
            raise ValueError(f"providers: needs exactly {', '.join(PROVIDERS)}")
        for name, plan in self.providers.items():
            if set(plan.prices) != set(PAID_TIERS):
                raise ValueError(f"providers.{name}.prices: needs BASIC, PREMIUM and VIP")
            for tier, by_months in plan.prices.items():
                if set(by_months) != set(PERIODS):
                    raise ValueError(f"providers.{name}.prices.{tier}: needs 1, 3 and 12 months")
                if any(p <= 0 for p in by_months.values()):
                    raise ValueError(f"providers.{name}.prices.{tier}: prices must be > 0")
        stars = self.providers["stars"]
        if any(p != p.to_integral_value() for t in stars.prices.values() for p in t.values()):
            raise ValueError("providers.stars.prices: Telegram Stars are whole numbers")
        return self

    def price_list(self, provider: str) -> PriceList:
        return self.providers[provider]


def _prices(monthly: dict[str, str], three: dict[str, str], year: dict[str, str]) -> Any:
    return {tier: {1: monthly[tier], 3: three[tier], 12: year[tier]} for tier in PAID_TIERS}


DEFAULT_PAYMENT_RULES_DATA: dict[str, Any] = {
    "providers": {
        "stars": {
            "currency": "XTR",
            "prices": _prices(
                {"BASIC": "250", "PREMIUM": "750", "VIP": "1500"},
                {"BASIC": "700", "PREMIUM": "2100", "VIP": "4200"},
                {"BASIC": "2500", "PREMIUM": "7500", "VIP": "15000"},
            ),
        },
        "nowpayments": {
            "currency": "USD",
            "prices": _prices(
                {"BASIC": "4.99", "PREMIUM": "14.99", "VIP": "29.99"},
                {"BASIC": "13.99", "PREMIUM": "41.99", "VIP": "83.99"},
                {"BASIC": "49.99", "PREMIUM": "149.99", "VIP": "299.99"},
            ),
        },
        "ton": {
            "currency": "TON",
            "prices": _prices(
                {"BASIC": "1", "PREMIUM": "3", "VIP": "6"},
                {"BASIC": "2.8", "PREMIUM": "8.4", "VIP": "16.8"},
                {"BASIC": "10", "PREMIUM": "30", "VIP": "60"},
            ),
        },
    },
    "offer_minutes": 30,
    "reminder_days_before": 3,
}
