"""Numbers as the user's language writes them, for values put into texts already formatted.

Fluent formats plain numeric arguments itself (1,234 / 1 234); these helpers cover what it
cannot: signs, multipliers, fixed decimals. Russian groups thousands with no-break spaces and
writes a decimal comma, exactly as Fluent does, so a screen never mixes the two styles.
"""

from __future__ import annotations

from decimal import Decimal

NBSP = "\xa0"
MINUS = "−"  # U+2212: a true minus sign, as typeset text uses


def grouped(value: int, language: str) -> str:
    """1,234,567 in English, 1 234 567 (no-break spaces) in Russian."""
    text = f"{value:,}"
    return text.replace(",", NBSP) if language == "ru" else text


def signed(amount: int, language: str) -> str:
    """+1,200 / −500 / 0, grouped like every other number on screen."""
    sign = "+" if amount > 0 else MINUS if amount < 0 else ""
    return sign + grouped(abs(amount), language)


def decimal(value: float, language: str, digits: int = 1) -> str:
    """A fixed number of decimals: 2.5 / 2,5."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if language == "ru" else text


def percent(share: float, language: str) -> str:
    """A share 0..1 as a percentage with one decimal, without the % sign: 12.5 / 12,5."""
    return decimal(share * 100, language)


def multiplier(value: Decimal, language: str) -> str:
    """1.0, 1.1, 2.0, 1.25: at least one decimal, no trailing zeros beyond it."""
    text = format(value.normalize(), "f")
    if "." not in text:
        text += ".0"
    return text.replace(".", ",") if language == "ru" else text
