"""Telegram Mini App init data: checking it (every API call) and signing it (tools and tests).

The Mini App sends `Authorization: tma <initData>`, the raw query string Telegram gave it.
The signature is checked with aiogram's `safe_parse_webapp_init_data` (Telegram's HMAC-SHA256
scheme keyed by the bot token); the age of `auth_date` is checked here, because aiogram does
not. Error messages never quote the init data: its `hash` is a bearer credential until it
expires, so it must not reach logs or responses.

`python -m src.api.init_data TELEGRAM_ID [LANGUAGE]` prints a valid init data string signed
with BOT_TOKEN, for curl (see docs/API.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from datetime import datetime, timedelta
from urllib.parse import urlencode

from aiogram.utils.web_app import WebAppUser, safe_parse_webapp_init_data

SCHEME = "tma"
# A phone's clock may run a little ahead of ours; more than this is not a real login.
FUTURE_SKEW = timedelta(minutes=5)


class InitDataError(ValueError):
    """Why init data was refused: a short reason safe to log and to return."""


def user_from_authorization(
    header: str | None, *, token: str, now: datetime, max_age: timedelta
) -> WebAppUser:
    """The Telegram user of a valid `tma` Authorization header, or InitDataError."""
    if not header:
        raise InitDataError("missing Authorization header (expected: tma <initData>)")
    scheme, _, raw = header.strip().partition(" ")
    if scheme.lower() != SCHEME or not raw.strip():
        raise InitDataError("Authorization must be: tma <initData>")
    try:
        data = safe_parse_webapp_init_data(token, raw.strip())
    except ValueError:  # bad signature, or fields that do not parse
        raise InitDataError("init data signature is invalid") from None
    age = now - data.auth_date
    if age > max_age:
        raise InitDataError("init data has expired: reopen the Mini App")
    if age < -FUTURE_SKEW:
        raise InitDataError("init data auth_date is in the future")
    if data.user is None:
        raise InitDataError("init data carries no user")
    return data.user


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
    fields = {
        "query_id": query_id,
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int(auth_date.timestamp())),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


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
