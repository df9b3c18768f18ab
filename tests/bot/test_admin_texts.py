"""Admin texts (src/locales/*/admin.ftl): numbers agree with their nouns in both languages."""

from __future__ import annotations

import re

import pytest

from src.bot.dispatcher import ADMIN_MENU_COMMANDS
from src.locales import LANGUAGES, message_ids, translator

FORMS = {
    "ru": {
        "points": {1: "поинт", 2: "поинта", 5: "поинтов", 11: "поинтов", 21: "поинт", 22: "поинта"},
        "days": {1: "день", 2: "дня", 5: "дней", 11: "дней", 21: "день", 22: "дня"},
        "transactions": {
            1: "транзакция",
            2: "транзакции",
            5: "транзакций",
            11: "транзакций",
            21: "транзакция",
            22: "транзакции",
        },
    },
    "en": {
        "points": {1: "point", 2: "points", 21: "points"},
        "days": {1: "day", 2: "days", 21: "days"},
        "transactions": {1: "transaction", 2: "transactions", 21: "transactions"},
    },
}
ARGS: dict[str, str | int] = {
    "user": "Alice",
    "id": "610001",
    "amount": 7,
    "balance": 7,
    "streak": 7,
    "longest": 9,
    "rank": 2,
    "transactions": 7,
    "type": "x",
    "count": 7,
    "total": "+5",
    "days": 7,
}
COUNTED = [
    ("admin-error-insufficient", "balance", "points"),
    ("admin-confirm-grant", "amount", "points"),
    ("admin-confirm-deduct", "amount", "points"),
    ("admin-done-grant", "amount", "points"),
    ("admin-done-deduct", "amount", "points"),
    ("admin-refused", "balance", "points"),
    ("admin-notify-grant", "amount", "points"),
    ("admin-notify-deduct", "amount", "points"),
    ("admin-user-balance", "balance", "points"),
    ("admin-user-streak", "streak", "days"),
    ("admin-an-streak-longest", "days", "days"),
    ("admin-user-rank", "transactions", "transactions"),
    ("admin-an-type", "count", "transactions"),
]


@pytest.mark.parametrize(("key", "arg", "noun"), COUNTED)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_admin_counted_texts_agree_with_their_number(
    key: str, arg: str, noun: str, lang: str
) -> None:
    t = translator(lang)
    for n, form in FORMS[lang][noun].items():
        text = t(key, **(ARGS | {arg: n}))
        assert re.search(rf"(?<!\d){n}(</b>)? {form}(?!\w)", text), (key, n, text)


def test_admin_texts_exist_in_both_languages_with_the_admin_prefix() -> None:
    en = {k for k in message_ids("en") if k.startswith("admin-")}
    ru = {k for k in message_ids("ru") if k.startswith("admin-")}
    assert en == ru and len(en) > 100
    for command in ADMIN_MENU_COMMANDS:
        assert f"admin-cmd-{command}" in en
