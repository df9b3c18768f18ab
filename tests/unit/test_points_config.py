"""The rules as data: SPEC defaults, validation, and the operator's override file."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.points_config import (
    DEFAULT_RULES,
    PointsConfigError,
    RequestAction,
    Tier,
    TierQuota,
    load_points_rules,
)


def test_defaults_are_the_spec_tables() -> None:
    r = DEFAULT_RULES
    assert {a: rule.base_points for a, rule in r.requests.items()} == {
        RequestAction.TEXT: 10,
        RequestAction.VISION: 20,
        RequestAction.CHART: 15,
    }
    assert {a: rule.min_interval_seconds for a, rule in r.requests.items()} == {
        RequestAction.TEXT: 5,
        RequestAction.VISION: 10,
        RequestAction.CHART: 10,
    }
    assert {t: str(m) for t, m in r.tier_multipliers.items()} == {
        Tier.FREE: "1.0",
        Tier.BASIC: "1.2",
        Tier.PREMIUM: "1.5",
        Tier.VIP: "2.0",
    }
    assert r.streak_bonuses == {1: 50, 3: 150, 7: 500, 14: 1200, 30: 3000, 100: 15000}
    assert (r.daily_login_points, r.referral_signup_points, r.referral_purchase_points) == (
        50,
        500,
        1000,
    )
    assert r.subscription_points_per_month == {Tier.BASIC: 500, Tier.PREMIUM: 1500, Tier.VIP: 3000}
    assert r.max_daily_points_earning == 10_000
    assert [(lv.name_en, lv.name_ru, lv.icon) for lv in r.levels] == [
        ("Beginner", "Новичок", "🌱"),
        ("Trader", "Трейдер", "📈"),
        ("Analyst", "Аналитик", "🔍"),
        ("Expert", "Эксперт", "⭐"),
        ("Master", "Мастер", "💎"),
        ("Legend", "Легенда", "👑"),
    ]
    assert [r.level_for(x) for x in (0, 999, 1000, 4999, 5000, 149_999, 150_000)] == [
        1, 1, 2, 2, 3, 5, 6,
    ]  # fmt: skip


def test_rules_are_immutable() -> None:
    with pytest.raises(Exception, match="frozen"):
        DEFAULT_RULES.max_daily_points_earning = 1  # type: ignore[misc]


def test_toml_override_is_merged_onto_defaults(tmp_path: Path) -> None:
    path = tmp_path / "points.toml"
    path.write_text(
        "max_daily_points_earning = 5000\n"
        "[requests.earn_text_request]\nbase_points = 12\n"
        "[streak_bonuses]\n7 = 700\n"
    )
    rules = load_points_rules(path)
    assert rules.max_daily_points_earning == 5000
    assert rules.requests[RequestAction.TEXT].base_points == 12
    assert rules.requests[RequestAction.TEXT].min_interval_seconds == 5  # kept from defaults
    assert rules.streak_bonuses[7] == 700 and rules.streak_bonuses[30] == 3000


def test_yaml_override(tmp_path: Path) -> None:
    path = tmp_path / "points.yaml"
    path.write_text("tier_multipliers:\n  VIP: '2.5'\n")
    assert str(load_points_rules(path).tier_multipliers[Tier.VIP]) == "2.5"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("max_daily_points_earning = -1\n", "max_daily_points_earning"),
        ("[requests.earn_text_request]\nmin_interval_seconds = -1\n", "min_interval_seconds"),
        ("[tier_multipliers]\nVIP = '0.5'\n", "multipliers must be >= 1"),
        ("[[levels]]\nlevel = 1\nname_ru='a'\nname_en='a'\nicon='x'\npoints_required=0\n"
         "earning_multiplier='1.0'\n[[levels]]\nlevel = 2\nname_ru='b'\nname_en='b'\nicon='y'\n"
         "points_required=0\nearning_multiplier='1.1'\n", "strictly ascending"),
        ("unknown_key = 1\n", "Extra inputs"),
        ("this is not toml", "not valid"),
    ],
)  # fmt: skip
def test_invalid_override_is_refused_with_a_clear_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "points.toml"
    path.write_text(content)
    with pytest.raises(PointsConfigError, match=message) as info:
        load_points_rules(path)
    assert "POINTS_CONFIG_FILE" in str(info.value)


def test_missing_or_wrong_kind_of_file(tmp_path: Path) -> None:
    with pytest.raises(PointsConfigError, match="cannot read"):
        load_points_rules(tmp_path / "absent.toml")
    other = tmp_path / "points.json"
    other.write_text("{}")
    with pytest.raises(PointsConfigError, match=r"\.toml, \.yaml"):
        load_points_rules(other)


# ---------------------------------------------------------------------------- daily quotas


def test_default_quotas_are_the_spec_table() -> None:
    table = {
        tier: tuple(DEFAULT_RULES.quota(tier, action) for action in RequestAction) for tier in Tier
    }
    assert table == {
        Tier.FREE: (30, 5, 10),
        Tier.BASIC: (150, 25, 50),
        Tier.PREMIUM: (500, 100, 200),
        Tier.VIP: (None, None, None),
    }


def test_quota_override_merges_per_tier_and_action(tmp_path: Path) -> None:
    toml = tmp_path / "points.toml"
    toml.write_text(
        "[daily_quotas.FREE]\nvision = 0\ntext = 40\n[daily_quotas.VIP]\nchart = 1000\n"
    )
    rules = load_points_rules(toml)
    assert rules.daily_quotas[Tier.FREE] == TierQuota(text=40, vision=0, chart=10)
    assert rules.daily_quotas[Tier.VIP] == TierQuota(text=None, vision=None, chart=1000)
    assert rules.daily_quotas[Tier.BASIC] == DEFAULT_RULES.daily_quotas[Tier.BASIC]


def test_unlimited_is_null_in_yaml_and_a_word_in_toml(tmp_path: Path) -> None:
    yaml_file = tmp_path / "points.yaml"
    yaml_file.write_text("daily_quotas:\n  FREE:\n    text: null\n")
    toml = tmp_path / "points.toml"
    toml.write_text('[daily_quotas.PREMIUM]\nchart = "unlimited"\n')
    assert load_points_rules(yaml_file).quota(Tier.FREE, RequestAction.TEXT) is None
    assert load_points_rules(toml).quota(Tier.PREMIUM, RequestAction.CHART) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[daily_quotas.FREE]\ntext = -1\n", r"daily_quotas\.FREE\.text: .*greater than or equal to 0"),
        ("[daily_quotas.FREE]\ntext = true\n", r"daily_quotas\.FREE\.text: .*whole number >= 0"),
        ('[daily_quotas.FREE]\ntext = "lots"\n', r"daily_quotas\.FREE\.text: .*\"unlimited\""),
        ("[daily_quotas.FREE]\ntext = 2.5\n", r"daily_quotas\.FREE\.text: .*valid integer"),
        ("[daily_quotas.FREE]\nimages = 3\n", r"daily_quotas\.FREE\.images: Extra inputs"),
        ("[daily_quotas.GOLD]\ntext = 1\nvision = 1\nchart = 1\n", r"daily_quotas\.GOLD"),
        ("daily_quotas = 5\n", r"daily_quotas: .*valid dictionary"),
    ],
)  # fmt: skip
def test_bad_quota_override_is_refused_naming_the_place(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "points.toml"
    path.write_text(content)
    with pytest.raises(PointsConfigError, match=message) as info:
        load_points_rules(path)
    assert str(info.value).startswith(f"POINTS_CONFIG_FILE {path}: ")
