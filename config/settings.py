"""Application settings: one place that reads the environment and `.env`.

Every value is validated when the process starts, so a typo in an operator's `.env`
stops the process with a message naming the variable instead of failing later.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


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

    # Telegram
    bot_token: SecretStr | None = Field(default=None, alias="BOT_TOKEN")
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default=frozenset(), alias="ADMIN_IDS")

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

    @field_validator("bot_token", "points_config_file", "log_format", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

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
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            lines.append(f"invalid setting {name.upper()}: {error['msg']}")
        raise SettingsError("; ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
