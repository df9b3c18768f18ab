"""Checks of single setting values that need more than a type (config/settings.py calls them)."""

from __future__ import annotations

import re
from importlib.util import find_spec
from pathlib import Path

TON_RAW_ADDRESS = re.compile(r"-?[0-9]+:[0-9a-fA-F]{64}")
TON_FRIENDLY_ADDRESS = re.compile(r"[A-Za-z0-9_\-+/]{48}")


def ccxt_exchange_id(value: str) -> str:
    """ccxt's exchange ids are its async_support modules; looked up without importing ccxt
    (that takes ~0.5 s)."""
    name = value.strip().lower()
    spec = find_spec("ccxt")
    folder = Path(spec.origin).parent / "async_support" if spec and spec.origin else None
    usable = name.isidentifier() and not name.startswith("_")
    if not usable or folder is None or not (folder / f"{name}.py").is_file():
        raise ValueError(f"unknown exchange {value!r} (a ccxt exchange id such as okx)")
    return name


def ton_address(value: str) -> str:
    """The raw form `0:<64 hex>` or the 48-character user-friendly form (base64url or base64)."""
    value = value.strip()
    if TON_RAW_ADDRESS.fullmatch(value) or TON_FRIENDLY_ADDRESS.fullmatch(value):
        return value
    raise ValueError("must be a TON address: 48-character user-friendly (EQ…/UQ…) or 0:<hex>")


def webhook_secret(raw: str) -> None:
    """Telegram's rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -."""
    if not (1 <= len(raw) <= 256) or not all(c.isalnum() or c in "_-" for c in raw):
        raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
