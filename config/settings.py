"""Application settings: one place that reads the environment and `.env`.

Every value is validated when the process starts, so a typo in an operator's `.env`
stops the process with a message naming the variable instead of failing later.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config import setting_checks as checks

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# On SIGTERM, updates in flight get the LLM's own timeout plus this long to send their answer
# and write their award (every database wait on that path is bounded well below it).
SHUTDOWN_MARGIN_SECONDS = 15.0


# LLM_BASE_URL=demo: the offline demo assistant (console only; bot.py refuses it).
LLM_DEMO = "demo"


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


class WebhookAck(StrEnum):
    RECEIVED = "received"
    HANDLED = "handled"


# API_WORKERS=0 runs one API worker per CPU core, but no more than this many.
MAX_AUTO_API_WORKERS = 4


class SettingsError(RuntimeError):
    """Raised when the environment holds an invalid setting; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # Database: empty means "use the embedded PostgreSQL under DATA_DIR".
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    data_dir: Path = Field(default=PROJECT_ROOT / "data", alias="DATA_DIR")
    db_pool_size: int = Field(default=10, ge=1, le=200, alias="DB_POOL_SIZE")
    # DATABASE_URL is a PgBouncer in transaction mode: asyncpg's statement cache off.
    db_pgbouncer: bool = Field(default=False, alias="DB_PGBOUNCER")
    # Bounded waits on the database (src/database/engine.py, docs/RELIABILITY.md): a connection
    # (or a free pool slot), a statement (0: none), a row lock.
    db_connect_timeout_seconds: float = Field(
        default=5, gt=0, le=120, alias="DB_CONNECT_TIMEOUT_SECONDS"
    )
    db_statement_timeout_seconds: float = Field(
        default=15, ge=0, le=3600, alias="DB_STATEMENT_TIMEOUT_SECONDS"
    )
    db_lock_timeout_seconds: float = Field(default=3, gt=0, le=600, alias="DB_LOCK_TIMEOUT_SECONDS")
    # Group commit of ledger movements (src/services/earn_batcher.py): on unless "false".
    points_batching: bool = Field(default=True, alias="POINTS_BATCHING")
    points_batch_size: int = Field(default=64, ge=1, le=1000, alias="POINTS_BATCH_SIZE")
    points_batch_flushers: int = Field(default=2, ge=1, le=32, alias="POINTS_BATCH_FLUSHERS")

    # Redis (optional): the leaderboard rank index; everything works without it.
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    redis_key_prefix: str = Field(default="syntra:", alias="REDIS_KEY_PREFIX")

    # Telegram
    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default=frozenset(), alias="ADMIN_IDS")

    telegram_api_base: str | None = Field(default=None, alias="TELEGRAM_API_BASE")
    webhook_url: str | None = Field(default=None, alias="WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(default=None, alias="WEBHOOK_SECRET")
    webhook_listen_host: str = Field(default="0.0.0.0", alias="WEBHOOK_LISTEN_HOST")
    webhook_listen_port: int = Field(default=8080, ge=1, le=65535, alias="WEBHOOK_LISTEN_PORT")
    # When the webhook answers Telegram: "received" (at once; the update is handled after) or
    # "handled" (after the handler: a worker killed mid-update gets it redelivered elsewhere).
    webhook_ack: WebhookAck = Field(default=WebhookAck.RECEIVED, alias="WEBHOOK_ACK")

    # The API process (REST + Mini App) and metrics
    api_host: str = Field(default="127.0.0.1", alias="API_HOST")
    api_port: int = Field(default=8000, ge=1, le=65535, alias="API_PORT")
    # Worker processes serving API_PORT; 0: one per CPU core, at most MAX_AUTO_API_WORKERS.
    api_workers: int = Field(default=0, ge=0, le=32, alias="API_WORKERS")
    # Where the API is reachable from outside (payment callbacks and links are built from it).
    public_base_url: str | None = Field(default=None, alias="PUBLIC_BASE_URL")
    # The Mini App's address for the /points button; Telegram opens only https:// Web Apps.
    mini_app_url: str | None = Field(default=None, alias="MINI_APP_URL")
    # Payments: who users may also write to about a payment (/paysupport), e.g. @syntra_support.
    payment_support_contact: str | None = Field(default=None, alias="PAYMENT_SUPPORT_CONTACT")
    init_data_max_age_seconds: int = Field(
        default=86_400, ge=60, le=30 * 86_400, alias="INIT_DATA_MAX_AGE_SECONDS"
    )
    # Per-user token bucket: a sustained rate plus a burst (opening the app fires ~6 calls).
    api_rate_limit_per_minute: int = Field(
        default=120, ge=1, le=1_000_000, alias="API_RATE_LIMIT_PER_MINUTE"
    )
    api_rate_limit_burst: int = Field(default=30, ge=1, le=1_000_000, alias="API_RATE_LIMIT_BURST")
    # The bot process serves Prometheus metrics on this port when set (the API has /metrics).
    metrics_host: str = Field(default="127.0.0.1", alias="METRICS_HOST")
    metrics_port: int | None = Field(default=None, ge=1, le=65535, alias="METRICS_PORT")

    # NOWPayments (crypto invoices): offered by /subscribe when NOWPAYMENTS_API_KEY is set.
    nowpayments_api_key: SecretStr | None = Field(default=None, alias="NOWPAYMENTS_API_KEY")
    nowpayments_ipn_secret: SecretStr | None = Field(default=None, alias="NOWPAYMENTS_IPN_SECRET")
    nowpayments_api_base: str = Field(
        default="https://api.nowpayments.io/v1", alias="NOWPAYMENTS_API_BASE"
    )
    # TON: transfers to this wallet, found by toncenter v3 polling; offered when it is set.
    ton_wallet_address: str | None = Field(default=None, alias="TON_WALLET_ADDRESS")
    toncenter_api_base: str = Field(
        default="https://toncenter.com/api/v3", alias="TONCENTER_API_BASE"
    )
    toncenter_api_key: SecretStr | None = Field(default=None, alias="TONCENTER_API_KEY")
    ton_poll_seconds: float = Field(default=15, ge=1, le=3600, alias="TON_POLL_SECONDS")

    # The AI assistant: any OpenAI-compatible chat-completions API.
    llm_base_url: str | None = Field(default=None, alias="LLM_BASE_URL")
    llm_api_key: SecretStr | None = Field(default=None, alias="LLM_API_KEY")
    llm_model: str = Field(default="gpt-4o-mini", alias="LLM_MODEL")
    llm_timeout_seconds: float = Field(default=60, gt=0, le=600, alias="LLM_TIMEOUT_SECONDS")
    # Image analysis: the model that reads pictures (empty: LLM_MODEL), the largest file taken
    # (Telegram lets bots download at most 20 MB) and how long to wait for more of an album.
    llm_vision_model: str | None = Field(default=None, alias="LLM_VISION_MODEL")
    vision_max_file_mb: int = Field(default=10, ge=1, le=20, alias="VISION_MAX_FILE_MB")
    vision_album_wait_seconds: float = Field(
        default=1.0, gt=0, le=10, alias="VISION_ALBUM_WAIT_SECONDS"
    )

    # Market data for /chart (ccxt): the exchange, an optional replacement for its public REST
    # root (a proxy, or a local test server), how long to wait and how long candles stay fresh.
    exchange: str = Field(default="okx", alias="EXCHANGE")
    exchange_api_url: str | None = Field(default=None, alias="EXCHANGE_API_URL")
    exchange_timeout_seconds: float = Field(
        default=10, gt=0, le=120, alias="EXCHANGE_TIMEOUT_SECONDS"
    )
    exchange_cache_seconds: float = Field(default=30, ge=0, le=3600, alias="EXCHANGE_CACHE_SECONDS")
    # Processes that draw charts off the event loop; 0 draws in a thread of the bot itself.
    chart_render_processes: int = Field(default=2, ge=0, le=32, alias="CHART_RENDER_PROCESSES")
    # AI requests (chat, vision, chart) one user may have in flight at once, per bot process.
    ai_requests_per_user: int = Field(default=1, ge=1, le=100, alias="AI_REQUESTS_PER_USER")

    # Rules and time
    timezone: str = Field(default="UTC", alias="TIMEZONE")
    points_config_file: Path | None = Field(default=None, alias="POINTS_CONFIG_FILE")

    # Logging
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    log_format: LogFormat | None = Field(default=None, alias="LOG_FORMAT")
    log_dir: Path = Field(default=PROJECT_ROOT / "logs", alias="LOG_DIR")

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not value.startswith(("postgresql", "postgres://")):
            raise ValueError("must be a PostgreSQL URL, e.g. postgresql://user@host:5432/db")
        return value

    @field_validator(
        "bot_token",
        "points_config_file",
        "log_format",
        "telegram_api_base",
        "webhook_url",
        "webhook_secret",
        "llm_base_url",
        "llm_api_key",
        "llm_vision_model",
        "public_base_url",
        "mini_app_url",
        "payment_support_contact",
        "metrics_port",
        "redis_url",
        "exchange_api_url",
        "nowpayments_api_key",
        "nowpayments_ipn_secret",
        "ton_wallet_address",
        "toncenter_api_key",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "telegram_api_base",
        "webhook_url",
        "llm_base_url",
        "public_base_url",
        "exchange_api_url",
        "nowpayments_api_base",
        "toncenter_api_base",
    )
    @classmethod
    def _http_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.field_name == "llm_base_url" and value is not None and value.lower() == LLM_DEMO:
            return LLM_DEMO
        if value is not None and not value.startswith(("http://", "https://")):
            demo = f" (or {LLM_DEMO} for the console's offline demo)"
            raise ValueError(
                "must be an http:// or https:// URL"
                + (demo if info.field_name == "llm_base_url" else "")
            )
        return value.rstrip("/") if value else value

    @field_validator("exchange")
    @classmethod
    def _exchange(cls, value: str) -> str:
        return checks.ccxt_exchange_id(value)

    @field_validator("mini_app_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL (Telegram opens Mini Apps over HTTPS only)")
        return value

    @property
    def llm_demo(self) -> bool:
        """LLM_BASE_URL=demo: the offline demo assistant instead of an AI service."""
        return self.llm_base_url == LLM_DEMO

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("ton_wallet_address")
    @classmethod
    def _ton_address(cls, value: str | None) -> str | None:
        return None if value is None else checks.ton_address(value)

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            checks.webhook_secret(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self

    @model_validator(mode="after")
    def _nowpayments_needs_ipn(self) -> Settings:
        # Without the IPN secret no payment could ever be verified, so none would be credited.
        if self.nowpayments_api_key and not (self.nowpayments_ipn_secret and self.public_base_url):
            raise ValueError(
                "NOWPAYMENTS_API_KEY needs NOWPAYMENTS_IPN_SECRET and PUBLIC_BASE_URL "
                "(the IPN callback is verified with the secret and sent to the public URL)"
            )
        return self

    @model_validator(mode="after")
    def _flushers_fit_the_pool(self) -> Settings:
        # Each flusher holds a pooled connection while its call runs; leave room for the rest.
        if self.points_batching and self.points_batch_flushers > self.db_pool_size:
            raise ValueError("POINTS_BATCH_FLUSHERS must not exceed DB_POOL_SIZE")
        return self

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError as exc:
                raise ValueError("must be a comma-separated list of numeric Telegram ids") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as UTC)") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @property
    def api_worker_count(self) -> int:
        """API_WORKERS, or for 0 the CPU count capped at MAX_AUTO_API_WORKERS: one API process
        is CPU-bound on one core, and each worker holds its own database pool."""
        if self.api_workers:
            return self.api_workers
        return max(1, min(os.cpu_count() or 1, MAX_AUTO_API_WORKERS))

    @property
    def shutdown_grace_seconds(self) -> float:
        """How long a stopping bot waits for updates in flight: an AI answer always fits."""
        return self.llm_timeout_seconds + SHUTDOWN_MARGIN_SECONDS


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            # pydantic prefixes our validators' messages with "Value error, ": noise to an operator.
            message = error["msg"].removeprefix("Value error, ")
            if error["loc"]:
                lines.append(f"invalid setting {str(error['loc'][0]).upper()}: {message}")
            else:  # a rule across settings; its message names the variables
                lines.append(f"invalid settings: {message}")
        raise SettingsError("; ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
