"""Telegram Mini App init data: checking it (every API call) and signing it (tools and tests).

The Mini App sends `Authorization: tma <initData>`, the raw query string Telegram gave it.
The signature is checked with aiogram's `check_webapp_signature` (Telegram's HMAC-SHA256
scheme keyed by the bot token, the check inside `safe_parse_webapp_init_data`, without its
slower pydantic parsing); the age of `auth_date` is checked here, because aiogram does not. Error messages never quote the init data: its `hash` is a bearer credential until it
expires, so it must not reach logs or responses.

`python -m src.api.init_data TELEGRAM_ID [LANGUAGE]` prints a valid init data string signed
with BOT_TOKEN, for curl (see docs/API.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from aiogram.utils.web_app import check_webapp_signature

SCHEME = "tma"
# A phone's clock may run a little ahead of ours; more than this is not a real login.
FUTURE_SKEW = timedelta(minutes=5)


class InitDataError(ValueError):
    """Why init data was refused: a short reason safe to log and to return."""


@dataclass(frozen=True, slots=True)
class TelegramUser:
    """The `user` field of valid init data: who opened the Mini App."""

    id: int
    first_name: str | None
    username: str | None
    language_code: str | None


def _parse(raw: str) -> tuple[TelegramUser | None, datetime]:
    """The user and auth_date of init data whose signature was checked."""
    fields = dict(parse_qsl(raw))
    auth_date = datetime.fromtimestamp(int(fields["auth_date"]), tz=UTC)
    if "user" not in fields:
        return None, auth_date
    user = json.loads(fields["user"])
    if not isinstance(user, dict) or isinstance(user.get("id"), bool):
        raise ValueError("user is not an object with an id")
    return (
        TelegramUser(
            id=int(user["id"]),
            first_name=_text(user.get("first_name")),
            username=_text(user.get("username")),
            language_code=_text(user.get("language_code")),
        ),
        auth_date,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class InitDataVerifier:
    """Checks `Authorization: tma <initData>` headers for one bot token.

    The signature is aiogram's `check_webapp_signature` (Telegram's HMAC-SHA256 keyed by the
    bot token). A Mini App sends the same init data with every call, so strings already
    verified are remembered (bounded): a repeat costs a dict lookup; the age is still checked
    on every call.
    """

    def __init__(self, token: str, *, max_age: timedelta, remember: int = 10_000) -> None:
        self._token = token
        self._max_age = max_age
        self._remember = remember
        self._verified: dict[str, tuple[TelegramUser | None, datetime]] = {}

    def user(self, header: str | None, *, now: datetime) -> TelegramUser:
        """The Telegram user of a valid header, or InitDataError saying why not."""
        if not header:
            raise InitDataError("missing Authorization header (expected: tma <initData>)")
        scheme, _, raw = header.strip().partition(" ")
        raw = raw.strip()
        if scheme.lower() != SCHEME or not raw:
            raise InitDataError("Authorization must be: tma <initData>")
        known = self._verified.get(raw)
        if known is None:
            known = self._verify(raw)
        user, auth_date = known
        age = now - auth_date
        if age > self._max_age:
            raise InitDataError("init data has expired: reopen the Mini App")
        if age < -FUTURE_SKEW:
            raise InitDataError("init data auth_date is in the future")
        if user is None:
            raise InitDataError("init data carries no user")
        return user

    def _verify(self, raw: str) -> tuple[TelegramUser | None, datetime]:
        if not check_webapp_signature(self._token, raw):
            raise InitDataError("init data signature is invalid")
        try:
            parsed = _parse(raw)
        except (KeyError, ValueError, TypeError, OverflowError):
            raise InitDataError("init data is malformed") from None
        if len(self._verified) >= self._remember:
            self._verified.clear()
        self._verified[raw] = parsed
        return parsed


def sign_init_data(
    token: str,
    *,
    user_id: int,
    auth_date: datetime,
    first_name: str = "Test",
    username: str | None = None,
    language_code: str = "en",
    query_id: str = "AAHdF6IQAAAAAN0XohDhrOrc",
) -> str:
    """Init data as Telegram builds it: the fields, then `hash` over their sorted lines."""
    user: dict[str, object] = {"id": user_id, "first_name": first_name}
    if username:
        user["username"] = username
    user["language_code"] = language_code
    return sign_fields(
        token,
        {
            "query_id": query_id,
            "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
            "auth_date": str(int(auth_date.timestamp())),
        },
    )


def sign_fields(token: str, fields: dict[str, str]) -> str:
    """Any fields, signed: `hash` over their sorted `key=value` lines."""
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    signed = {**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()}
    return urlencode(signed)


def main(argv: list[str]) -> int:
    """Print init data for TELEGRAM_ID signed with BOT_TOKEN (valid for INIT_DATA_MAX_AGE)."""
    from config.settings import SettingsError, get_settings

    if not argv or not argv[0].isdigit() or len(argv) > 2:
        print("usage: ./manage.sh init-data TELEGRAM_ID [ru|en]", file=sys.stderr)
        return 2
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"init-data: {exc}", file=sys.stderr)
        return 2
    if settings.bot_token is None:
        print("init-data: BOT_TOKEN is not set (see README.md)", file=sys.stderr)
        return 2
    now = datetime.now().astimezone()
    language = argv[1] if len(argv) > 1 else "en"
    token = settings.bot_token.get_secret_value()
    print(sign_init_data(token, user_id=int(argv[0]), auth_date=now, language_code=language))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
