"""The points rules of SPEC sections 3-6 as typed, validated, immutable data.

`DEFAULT_RULES` is the product specification. An operator may override any part of it with a
TOML or YAML file named by `POINTS_CONFIG_FILE`; the file is deep-merged onto the defaults and
the result is validated as a whole, so an invalid file is refused at start with a clear error.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from config.payment_rules import DEFAULT_PAYMENT_RULES_DATA, PaymentRules


class Tier(StrEnum):
    FREE = "FREE"
    BASIC = "BASIC"
    PREMIUM = "PREMIUM"
    VIP = "VIP"


class TransactionType(StrEnum):
    """Every value the ledger's transaction_type may hold: the one place they are spelled."""

    TEXT_REQUEST = "earn_text_request"
    VISION_REQUEST = "earn_vision_request"
    CHART_REQUEST = "earn_chart_request"
    DAILY_LOGIN = "earn_daily_login"
    REFERRAL_SIGNUP = "earn_referral_signup"
    REFERRAL_PURCHASE = "earn_referral_purchase"
    SUBSCRIPTION = "earn_subscription"
    REFUND_SUBSCRIPTION = "refund_subscription"  # a refunded purchase's bonus taken back
    ADMIN_GRANT = "admin_grant"
    ADMIN_DEDUCT = "admin_deduct"
    SPEND = "spend"


class RequestAction(StrEnum):
    """Actions that earn per served request; the value is the ledger's transaction_type."""

    TEXT = TransactionType.TEXT_REQUEST.value
    VISION = TransactionType.VISION_REQUEST.value
    CHART = TransactionType.CHART_REQUEST.value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RequestRule(_Frozen):
    base_points: int = Field(gt=0)
    min_interval_seconds: float = Field(ge=0)


class LevelRule(_Frozen):
    level: int = Field(ge=1)
    name_ru: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    icon: str = Field(min_length=1)
    points_required: int = Field(ge=0)
    earning_multiplier: Decimal = Field(ge=1)
    description: str = ""
    color: str = "#888888"

    def name(self, language: str) -> str:
        """The level's name in `language` (Russian for "ru", English otherwise)."""
        return self.name_ru if language == "ru" else self.name_en


class PointsRules(_Frozen):
    requests: dict[RequestAction, RequestRule]
    tier_multipliers: dict[Tier, Decimal]
    daily_login_points: int = Field(gt=0)
    streak_bonuses: dict[int, int]
    referral_signup_points: int = Field(gt=0)
    referral_purchase_points: int = Field(gt=0)
    subscription_points_per_month: dict[Tier, int]
    max_daily_points_earning: int = Field(gt=0)
    levels: tuple[LevelRule, ...]
    payments: PaymentRules  # plans and prices per payment method (config/payment_rules.py)
    # Admin grants/deducts: a hard maximum per operation, and the amount from which the admin
    # must confirm with a button.
    admin_max_amount: int = Field(default=1_000_000, gt=0)
    admin_confirm_threshold: int = Field(default=10_000, gt=0)
    # Limits on what a caller may write, so bad input is refused before it reaches the ledger.
    max_transaction_key_length: int = Field(default=128, gt=0)
    max_description_length: int = Field(default=500, gt=0)

    @model_validator(mode="after")
    def _check(self) -> PointsRules:
        if set(self.requests) != set(RequestAction):
            raise ValueError("requests: every request action needs a rule")
        if set(self.tier_multipliers) != set(Tier):
            raise ValueError("tier_multipliers: every tier needs a multiplier")
        if any(m < 1 for m in self.tier_multipliers.values()):
            raise ValueError("tier_multipliers: multipliers must be >= 1")
        paid = {Tier.BASIC, Tier.PREMIUM, Tier.VIP}
        if set(self.subscription_points_per_month) != paid:
            raise ValueError("subscription_points_per_month: needs BASIC, PREMIUM and VIP")
        if any(v <= 0 for v in self.subscription_points_per_month.values()):
            raise ValueError("subscription_points_per_month: points must be > 0")
        if any(day < 1 or bonus < 0 for day, bonus in self.streak_bonuses.items()):
            raise ValueError("streak_bonuses: days must be >= 1 and bonuses >= 0")
        return self

    @model_validator(mode="after")
    def _check_levels(self) -> PointsRules:
        if not self.levels:
            raise ValueError("levels: at least one level is required")
        for index, level in enumerate(self.levels, start=1):
            if level.level != index:
                raise ValueError("levels: must be numbered 1, 2, 3, ... in order")
        if self.levels[0].points_required != 0:
            raise ValueError("levels: level 1 must require 0 points")
        for lower, upper in zip(self.levels, self.levels[1:], strict=False):
            if upper.points_required <= lower.points_required:
                raise ValueError("levels: points_required must be strictly ascending")
            if upper.earning_multiplier < lower.earning_multiplier:
                raise ValueError("levels: multipliers must not decrease")
        return self

    # Derived views used by the service and the database functions.
    @property
    def max_level(self) -> int:
        return len(self.levels)

    def level(self, number: int) -> LevelRule:
        return self.levels[number - 1]

    def level_for(self, lifetime_earned: int) -> int:
        reached = 1
        for level in self.levels:
            if lifetime_earned >= level.points_required:
                reached = level.level
        return reached

    def streak_bonus(self, streak: int) -> int:
        return self.streak_bonuses.get(streak, 0)


def _level(n: int, ru: str, en: str, icon: str, req: int, mult: str, desc: str, color: str) -> Any:
    return {
        "level": n,
        "name_ru": ru,
        "name_en": en,
        "icon": icon,
        "points_required": req,
        "earning_multiplier": mult,
        "description": desc,
        "color": color,
    }


DEFAULT_RULES_DATA: dict[str, Any] = {
    "requests": {
        RequestAction.TEXT: {"base_points": 10, "min_interval_seconds": 5},
        RequestAction.VISION: {"base_points": 20, "min_interval_seconds": 10},
        RequestAction.CHART: {"base_points": 15, "min_interval_seconds": 10},
    },
    "tier_multipliers": {"FREE": "1.0", "BASIC": "1.2", "PREMIUM": "1.5", "VIP": "2.0"},
    "daily_login_points": 50,
    "streak_bonuses": {1: 50, 3: 150, 7: 500, 14: 1200, 30: 3000, 100: 15000},
    "referral_signup_points": 500,
    "referral_purchase_points": 1000,
    "subscription_points_per_month": {"BASIC": 500, "PREMIUM": 1500, "VIP": 3000},
    "max_daily_points_earning": 10000,
    "payments": DEFAULT_PAYMENT_RULES_DATA,
    "levels": [
        _level(1, "Новичок", "Beginner", "🌱", 0, "1.0", "First steps", "#8BC34A"),
        _level(2, "Трейдер", "Trader", "📈", 1_000, "1.1", "Regular user", "#03A9F4"),
        _level(3, "Аналитик", "Analyst", "🔍", 5_000, "1.2", "Reads the market", "#3F51B5"),
        _level(4, "Эксперт", "Expert", "⭐", 15_000, "1.3", "Knows the tools", "#FFC107"),
        _level(5, "Мастер", "Master", "💎", 50_000, "1.5", "Top of the community", "#9C27B0"),
        _level(6, "Легенда", "Legend", "👑", 150_000, "2.0", "The very best", "#FF5722"),
    ],
}


class PointsConfigError(RuntimeError):
    """The override file is missing, unreadable or breaks a rule; the message says which."""


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_override(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PointsConfigError(
            f"POINTS_CONFIG_FILE {path}: cannot read ({exc.strerror})"
        ) from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        elif path.suffix.lower() in {".yaml", ".yml"}:
            data = yaml.safe_load(raw) or {}
        else:
            raise PointsConfigError(f"POINTS_CONFIG_FILE {path}: use a .toml, .yaml or .yml file")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PointsConfigError(f"POINTS_CONFIG_FILE {path}: not valid: {exc}") from None
    if not isinstance(data, dict):
        raise PointsConfigError(f"POINTS_CONFIG_FILE {path}: the top level must be a table")
    return data


def _normalise_keys(data: dict[str, Any]) -> dict[str, Any]:
    # TOML keys are always strings; streak days are integers in the rules.
    if isinstance(data.get("streak_bonuses"), dict):
        try:
            data["streak_bonuses"] = {int(k): v for k, v in data["streak_bonuses"].items()}
        except ValueError:
            raise PointsConfigError("streak_bonuses: keys must be whole numbers of days") from None
    for plan in (data.get("payments") or {}).get("providers", {}).values():
        for tier, by_months in (plan.get("prices") or {}).items():
            try:  # TOML keys are strings; months are integers in the rules
                plan["prices"][tier] = {int(k): v for k, v in by_months.items()}
            except (AttributeError, ValueError):
                raise PointsConfigError("payments: months must be whole numbers") from None
    return data


def load_points_rules(path: Path | None = None) -> PointsRules:
    """The rules in force: SPEC defaults, with the operator's file merged on top if given."""
    data = DEFAULT_RULES_DATA
    if path is not None:
        override = _normalise_keys(_read_override(path))
        if "levels" in override and not isinstance(override["levels"], list):
            raise PointsConfigError(f"POINTS_CONFIG_FILE {path}: levels must be a list")
        data = _deep_merge(DEFAULT_RULES_DATA, override)
    try:
        return PointsRules.model_validate(data)
    except ValidationError as exc:
        where = f"POINTS_CONFIG_FILE {path}" if path else "built-in points rules"
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rules'}: {e['msg']}" for e in exc.errors()
        )
        raise PointsConfigError(f"{where}: {problems}") from None


DEFAULT_RULES = load_points_rules()
