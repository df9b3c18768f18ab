"""Dates as the user's language writes them, unambiguous in both: `2 Dec 17:28`, `2 дек. 17:28`.

Digits-only forms are not: `02.12` is the 2nd of December in Russia and February 12th to many
English readers. Month names are CLDR's abbreviated ones (Russian in the genitive, as a date
needs them), kept here rather than taken from the C library's locale, which a server may lack.
"""

from __future__ import annotations

from datetime import date, datetime

_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "ru": (
        "янв.",
        "февр.",
        "мар.",
        "апр.",
        "мая",
        "июн.",
        "июл.",
        "авг.",
        "сент.",
        "окт.",
        "нояб.",
        "дек.",
    ),
}


def day_month(day: date, language: str) -> str:
    """`2 Dec` / `2 дек.`"""
    months = _MONTHS.get(language, _MONTHS["en"])
    return f"{day.day} {months[day.month - 1]}"


def day_month_time(moment: datetime, language: str) -> str:
    """`2 Dec 17:28` / `2 дек. 17:28` (the moment in its own zone: convert it first)."""
    return f"{day_month(moment, language)} {moment:%H:%M}"


def full_date_time(moment: datetime, language: str) -> str:
    """`2 Dec 2026 17:28:05` / `2 дек. 2026 17:28:05`."""
    return f"{day_month(moment, language)} {moment:%Y %H:%M:%S}"
