"""Reading admin command text: `/points_grant <user> <amount> [description]` and friends.

Pure functions, no I/O: each malformed input raises `AdminInputError` with one code per
mistake (the bot turns each into a text, `admin-error-<code>`). Checking the input against the
database (does the user exist, is the balance enough) is AdminService's part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from config.points_config import PointsRules
from src.services.points_math import MAX_TELEGRAM_ID

# ASCII digits only: `\d` alone also matches other scripts' digits ("١٠", "１０"), which int()
# reads as numbers, so "1٠٠" would silently mean 100.
_NUMERIC_ID = re.compile(r"\d{1,19}", re.ASCII)
_USERNAME = re.compile(r"@([A-Za-z0-9_]{3,32})")
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_MAX_DIGITS = 18  # beyond any limit: giant ints are never built from input


class AdminOp(StrEnum):
    GRANT = "grant"
    DEDUCT = "deduct"


class AdminErrorCode(StrEnum):
    MISSING_ARGS = "missing-args"
    MISSING_USER = "missing-user"
    USER_FORMAT = "user-format"  # args: user
    NOT_INTEGER = "not-integer"  # args: value
    NOT_POSITIVE = "not-positive"  # args: value
    TOO_LARGE = "too-large"  # args: value, maximum
    DESCRIPTION_TOO_LONG = "description-too-long"  # args: length, limit
    UNKNOWN_USER = "unknown-user"  # args: user
    INSUFFICIENT = "insufficient"  # args: user, balance, amount


# Mistakes in the command's form: the answer repeats the usage line. The others (an amount out
# of range, an unknown user, a short balance) come from a correctly written command.
SYNTAX_ERRORS = frozenset(
    {
        AdminErrorCode.MISSING_ARGS,
        AdminErrorCode.MISSING_USER,
        AdminErrorCode.USER_FORMAT,
        AdminErrorCode.NOT_INTEGER,
    }
)


class AdminInputError(Exception):
    """Bad admin input; nothing was written when it is raised."""

    def __init__(self, code: AdminErrorCode, **args: str | int) -> None:
        super().__init__(f"{code.value}: {args}")
        self.code = code
        self.args_ = args


@dataclass(frozen=True, slots=True)
class AmountCommand:
    """`<user> <amount> [description]`, checked for form (not yet against the database)."""

    user_ref: str
    amount: int
    description: str


def parse_user_ref(text: str) -> int | str:
    """A numeric Telegram id (int) or an `@username` (str, without the @)."""
    text = text.strip()
    if not text:
        raise AdminInputError(AdminErrorCode.MISSING_USER)
    if _NUMERIC_ID.fullmatch(text) and 0 < int(text) <= MAX_TELEGRAM_ID:
        return int(text)
    match = _USERNAME.fullmatch(text)
    if match:
        return match.group(1)
    raise AdminInputError(AdminErrorCode.USER_FORMAT, user=text)


def check_amount(amount: int, rules: PointsRules) -> int:
    if amount <= 0:
        raise AdminInputError(AdminErrorCode.NOT_POSITIVE, value=amount)
    if amount > rules.admin_max_amount:
        raise AdminInputError(
            AdminErrorCode.TOO_LARGE, value=amount, maximum=rules.admin_max_amount
        )
    return amount


def parse_amount(text: str, rules: PointsRules) -> int:
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        raise AdminInputError(AdminErrorCode.NOT_INTEGER, value=text)
    if len(text.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        if text.startswith("-"):
            raise AdminInputError(AdminErrorCode.NOT_POSITIVE, value=text)
        raise AdminInputError(AdminErrorCode.TOO_LARGE, value=text, maximum=rules.admin_max_amount)
    return check_amount(int(text), rules)


def parse_amount_command(args: str | None, rules: PointsRules) -> AmountCommand:
    """Check `<user> <amount> [description]` for form; raises AdminInputError."""
    parts = (args or "").split(maxsplit=2)
    if len(parts) < 2:
        raise AdminInputError(AdminErrorCode.MISSING_ARGS)
    user_ref, raw_amount = parts[0], parts[1]
    parse_user_ref(user_ref)
    amount = parse_amount(raw_amount, rules)
    description = parts[2].strip() if len(parts) > 2 else ""
    if len(description) > rules.max_description_length:
        raise AdminInputError(
            AdminErrorCode.DESCRIPTION_TOO_LONG,
            length=len(description),
            limit=rules.max_description_length,
        )
    return AmountCommand(user_ref=user_ref, amount=amount, description=description)
