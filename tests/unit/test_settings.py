"""Settings fail fast, naming the variable, and accept the usual spellings."""

from __future__ import annotations

import pytest

from config.settings import SettingsError, load_settings


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "BOT_TOKEN", "ADMIN_IDS", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.database_url is None and settings.bot_token is None
    assert settings.timezone == "UTC" and settings.admin_ids == frozenset()


def test_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "1, 22 ,333")
    monkeypatch.setenv("TIMEZONE", "Europe/Moscow")
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == frozenset({1, 22, 333})
    assert settings.timezone == "Europe/Moscow" and settings.log_level == "DEBUG"
    assert settings.bot_token is not None and settings.bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)  # secrets never reach logs


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Mars/Olympus"),
        ("ADMIN_IDS", "12,abc"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "LOUD"),
        ("DB_POOL_SIZE", "0"),
        ("MINI_APP_URL", "http://example.org/app/"),
        ("PUBLIC_BASE_URL", "example.org"),
        ("API_PORT", "70000"),
        ("INIT_DATA_MAX_AGE_SECONDS", "0"),
        ("API_RATE_LIMIT_PER_MINUTE", "0"),
        ("METRICS_PORT", "http"),
        ("POINTS_BATCHING", "sometimes"),
        ("POINTS_BATCH_SIZE", "0"),
        ("POINTS_BATCH_FLUSHERS", "0"),
        ("TON_WALLET_ADDRESS", "my-wallet"),
        ("TONCENTER_API_BASE", "toncenter.com/api/v3"),
        ("NOWPAYMENTS_API_BASE", "ftp://api.nowpayments.io"),
        ("TON_POLL_SECONDS", "0"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"invalid setting {name}"):
        load_settings(_env_file=None)


def test_api_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("API_HOST", "API_PORT", "MINI_APP_URL", "PUBLIC_BASE_URL", "METRICS_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None, MINI_APP_URL="", PUBLIC_BASE_URL="https://x.io/")
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert settings.init_data_max_age_seconds == 86_400
    assert settings.mini_app_url is None and settings.metrics_port is None
    assert settings.public_base_url == "https://x.io"


def test_llm_base_url_takes_demo_or_an_http_url() -> None:
    assert load_settings(_env_file=None, LLM_BASE_URL="demo").llm_demo
    assert load_settings(_env_file=None, LLM_BASE_URL="DEMO").llm_base_url == "demo"
    assert not load_settings(_env_file=None, LLM_BASE_URL="https://api.example/v1").llm_demo
    with pytest.raises(SettingsError, match=r"LLM_BASE_URL: .*URL \(or demo for the console"):
        load_settings(_env_file=None, LLM_BASE_URL="api.openai.com")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "TIMEZONE",
            "Mars/Olympus",
            "unknown time zone 'Mars/Olympus' (use an IANA name such as UTC)",
        ),
        (
            "DATABASE_URL",
            "mysql://root@localhost/db",
            "must be a PostgreSQL URL, e.g. postgresql://user@host:5432/db",
        ),
        (
            "LLM_BASE_URL",
            "api.openai.com",
            "must be an http:// or https:// URL (or demo for the console's offline demo)",
        ),
        ("DB_POOL_SIZE", "0", "Input should be greater than or equal to 1"),
    ],
)
def test_errors_read_as_one_plain_sentence(name: str, value: str, message: str) -> None:
    """No pydantic wording in front ("Value error, "): the operator reads the reason alone."""
    with pytest.raises(SettingsError) as refused:
        load_settings(_env_file=None, **{name: value})
    assert str(refused.value) == f"invalid setting {name}: {message}"


def test_batching_is_on_by_default_and_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from src.bootstrap import batch_config

    for name in ("POINTS_BATCHING", "POINTS_BATCH_SIZE", "POINTS_BATCH_FLUSHERS"):
        monkeypatch.delenv(name, raising=False)
    config = batch_config(load_settings(_env_file=None))
    assert config is not None and (config.max_items, config.flushers) == (64, 2)
    monkeypatch.setenv("POINTS_BATCH_SIZE", "16")
    monkeypatch.setenv("POINTS_BATCH_FLUSHERS", "3")
    config = batch_config(load_settings(_env_file=None))
    assert config is not None and (config.max_items, config.flushers) == (16, 3)
    monkeypatch.setenv("POINTS_BATCHING", "false")
    assert batch_config(load_settings(_env_file=None)) is None


def test_batch_flushers_must_fit_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "2")
    monkeypatch.setenv("POINTS_BATCH_FLUSHERS", "3")
    with pytest.raises(SettingsError, match="POINTS_BATCH_FLUSHERS must not exceed DB_POOL_SIZE"):
        load_settings(_env_file=None)


def test_payment_provider_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(_env_file=None)
    assert settings.nowpayments_api_base == "https://api.nowpayments.io/v1"
    assert settings.toncenter_api_base == "https://toncenter.com/api/v3"
    assert settings.ton_poll_seconds == 15 and settings.ton_wallet_address is None
    for address in ("UQBvW8Z5huBkMJYdnfAEM5JqTNkuWX3diqYENkWsIL0XggGG", "0:" + "ab" * 32):
        monkeypatch.setenv("TON_WALLET_ADDRESS", address)
        assert load_settings(_env_file=None).ton_wallet_address == address
    # An API key without the IPN secret and public URL would take money it can never verify.
    monkeypatch.setenv("NOWPAYMENTS_API_KEY", "key")
    with pytest.raises(SettingsError, match="NOWPAYMENTS_IPN_SECRET and PUBLIC_BASE_URL"):
        load_settings(_env_file=None)
    monkeypatch.setenv("NOWPAYMENTS_IPN_SECRET", "s3cr3t-value")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://pay.example/")
    settings = load_settings(_env_file=None)
    assert (
        "s3cr3t-value" not in repr(settings) and settings.public_base_url == "https://pay.example"
    )


def test_api_workers_default_to_the_cores_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import MAX_AUTO_API_WORKERS

    monkeypatch.delenv("API_WORKERS", raising=False)
    for cores, expected in ((1, 1), (2, 2), (64, MAX_AUTO_API_WORKERS), (None, 1)):
        monkeypatch.setattr("os.cpu_count", lambda cores=cores: cores)
        assert load_settings(_env_file=None).api_worker_count == expected
    assert load_settings(_env_file=None, API_WORKERS="3").api_worker_count == 3
    with pytest.raises(SettingsError, match="API_WORKERS"):
        load_settings(_env_file=None, API_WORKERS="-1")
