"""Dates as users read them: a month name, never a digits-only day.month that English readers
take for month.day."""

from __future__ import annotations

from datetime import date, datetime

from src.locales.dates import day_month, day_month_time, full_date_time


def test_every_month_has_its_name_in_both_languages() -> None:
    en = [day_month(date(2026, m, 2), "en") for m in range(1, 13)]
    ru = [day_month(date(2026, m, 2), "ru") for m in range(1, 13)]
    assert en == [
        "2 Jan", "2 Feb", "2 Mar", "2 Apr", "2 May", "2 Jun",
        "2 Jul", "2 Aug", "2 Sep", "2 Oct", "2 Nov", "2 Dec",
    ]  # fmt: skip
    assert ru == [
        "2 янв.", "2 февр.", "2 мар.", "2 апр.", "2 мая", "2 июн.",
        "2 июл.", "2 авг.", "2 сент.", "2 окт.", "2 нояб.", "2 дек.",
    ]  # fmt: skip


def test_times_and_full_stamps() -> None:
    moment = datetime(2026, 12, 2, 17, 28, 5)
    assert day_month_time(moment, "en") == "2 Dec 17:28"
    assert day_month_time(moment, "ru") == "2 дек. 17:28"
    assert full_date_time(moment, "en") == "2 Dec 2026 17:28:05"
    assert day_month_time(moment, "de") == "2 Dec 17:28"  # unknown language: English
