"""Texts: the same keys and arguments in both languages, every text formats, valid HTML,
correct Russian and English plurals, and every key the code asks for exists."""

from __future__ import annotations

import ast as pyast
import re
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fluent.syntax import FluentParser, Visitor
from fluent.syntax import ast as fl

from config.points_config import TransactionType
from src.bot.dispatcher import USER_COMMANDS
from src.locales import LANGUAGES, LOCALES_DIR, MissingTextError, message_ids, translator

SRC_BOT = Path(__file__).resolve().parents[2] / "src" / "bot"


def messages(language: str) -> dict[str, fl.Message]:
    """Every message of `language`, parsed by Fluent's own parser (not by message_ids)."""
    found: dict[str, fl.Message] = {}
    for path in sorted((LOCALES_DIR / language).glob("*.ftl")):
        resource = FluentParser().parse(path.read_text(encoding="utf-8"))
        junk = [entry for entry in resource.body if isinstance(entry, fl.Junk)]
        assert not junk, f"{path}: unparsable entries {[j.content[:60] for j in junk]}"
        for entry in resource.body:
            if isinstance(entry, fl.Message):
                assert entry.id.name not in found, f"{language}: {entry.id.name} defined twice"
                found[entry.id.name] = entry
    return found


class _Collect(Visitor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.variables: set[str] = set()
        self.selects: list[fl.SelectExpression] = []

    def visit_VariableReference(self, node: fl.VariableReference) -> None:
        self.variables.add(node.id.name)
        self.generic_visit(node)

    def visit_SelectExpression(self, node: fl.SelectExpression) -> None:
        self.selects.append(node)
        self.generic_visit(node)


@cache
def collect(lang: str, key: str) -> _Collect:
    visitor = _Collect()
    visitor.visit(PARSED[lang][key])
    return visitor


PARSED = {lang: messages(lang) for lang in LANGUAGES}
SHARED_KEYS = sorted(set(PARSED["en"]) & set(PARSED["ru"]))  # parity is tested separately

# Plausible values for the arguments the user-facing texts take; anything else gets a number.
PLAUSIBLE: dict[str, str | int] = {
    "name": "Anna",
    "referrer": "Boris",
    "link": "https://t.me/syntra_bot?start=ref_abcd2345",
    "icon": "📈",
    "bar": "▰▰▰▱▱▱▱▱▱▱",
    "date": "10 Mar 12:00",
    "type": "💬 AI answer",
    "place": "🥇",
    "line": "🌱 <b>Beginner</b>: from 0, ×1.0",
    "multiplier": "1.1",
    "level_mult": "1.2",
    "tier": "PREMIUM",
    "tier_mult": "1.5",
    "amount": 150,
    "balance": 1234,
    "count": 5,
    "streak": 3,
    "longest": 7,
    "bonus": 150,
    "day": 7,
    "hours": 11,
    "minutes": 59,
    "level": 2,
    "percent": 30,
    "missing": 766,
    "rank": 4,
    "earned": 30,
    "cap": 10000,
    "page": 1,
    "pages": 3,
    "required": 1000,
    "signup": 500,
    "purchase": 1000,
    "basic": 500,
    "premium": 1500,
    "vip": 3000,
    "text": 5,
    "vision": 10,
}
FALLBACK = 3


# ---------------------------------------------------------------------------- parity


def test_both_languages_define_the_same_keys() -> None:
    en, ru = message_ids("en"), message_ids("ru")
    assert sorted(en - ru) == [], "keys missing in Russian"
    assert sorted(ru - en) == [], "keys missing in English"
    assert len(en) > 50


@pytest.mark.parametrize("lang", LANGUAGES)
def test_message_ids_sees_every_message(lang: str) -> None:
    assert message_ids(lang) == set(PARSED[lang])


def test_messages_take_the_same_arguments_in_both_languages() -> None:
    differ = {
        key: (
            sorted(collect("en", key).variables),
            sorted(collect("ru", key).variables),
        )
        for key in SHARED_KEYS
        if collect("en", key).variables != collect("ru", key).variables
    }
    assert differ == {}


def test_a_missing_key_is_an_error_not_a_silent_fallback() -> None:
    with pytest.raises(MissingTextError):
        translator("ru")("no-such-key")
    with pytest.raises(MissingTextError):
        translator("en")("points-balance")  # its argument is missing


def test_unknown_language_falls_back_to_english() -> None:
    assert translator("de").language == "en"
    assert translator("de")("button-back") == "« Back"


# ---------------------------------------------------------------------------- formatting


def formatted(lang: str) -> Iterator[tuple[str, str, dict[str, str | int]]]:
    t = translator(lang)
    for key in sorted(PARSED[lang]):
        args = {v: PLAUSIBLE.get(v, FALLBACK) for v in collect(lang, key).variables}
        yield key, t(key, **args), args


class _TagChecker(HTMLParser):
    """The subset of HTML Telegram accepts, with every tag closed in order."""

    ALLOWED = frozenset(
        {
            "b",
            "strong",
            "i",
            "em",
            "u",
            "ins",
            "s",
            "strike",
            "del",
            "a",
            "code",
            "pre",
            "tg-spoiler",
            "blockquote",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.ALLOWED:
            self.errors.append(f"tag <{tag}> is not supported by Telegram")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"</{tag}> closes nothing open")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_formats_with_plausible_arguments(lang: str) -> None:
    for key, text, args in formatted(lang):
        assert text.strip(), key
        assert "{" not in text and "}" not in text, (key, text)
        for value in args.values():
            if isinstance(value, str):
                # Every text argument reaches the reader (not only a selector).
                assert value in text, (key, value, text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_valid_telegram_html(lang: str) -> None:
    for key, text, _ in formatted(lang):
        if key.startswith(("cmd-", "admin-cmd-")):
            continue  # command menu descriptions: plain text, never parsed as HTML
        checker = _TagChecker()
        checker.feed(text)
        checker.close()
        assert checker.errors == [] and checker.stack == [], (key, checker.errors, checker.stack)
        bare = re.sub(r"</?[a-z-]+[^>]*>", "", text)
        assert "<" not in bare and ">" not in bare, (key, text)
        assert re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);)", bare) is None, (key, text)


# ---------------------------------------------------------------------------- plurals

RU_FORMS = {
    "points": {
        1: "поинт",
        2: "поинта",
        5: "поинтов",
        11: "поинтов",
        21: "поинт",
        22: "поинта",
        25: "поинтов",
    },
    "days": {1: "день", 2: "дня", 5: "дней", 11: "дней", 21: "день", 22: "дня", 25: "дней"},
}
EN_FORMS = {
    "points": {1: "point", 2: "points", 5: "points", 21: "points"},
    "days": {1: "day", 2: "days", 5: "days", 21: "days"},
}
# The user-facing texts with a number of points or days in them: (key, argument, noun).
COUNTED = [
    ("points", "count", "points"),
    ("days", "count", "days"),
    ("points-balance", "balance", "points"),
    ("points-to-next", "missing", "points"),
    ("points-streak", "streak", "days"),
    ("daily-claimed", "amount", "points"),
    ("daily-streak-line", "streak", "days"),
    ("daily-already", "streak", "days"),
    ("top-me", "balance", "points"),
    ("level-missing", "missing", "points"),
]


def test_russian_plurals_literally() -> None:
    ru = translator("ru")
    assert [ru("points", count=n) for n in (1, 2, 5, 21, 22, 25)] == [
        "1 поинт",
        "2 поинта",
        "5 поинтов",
        "21 поинт",
        "22 поинта",
        "25 поинтов",
    ]
    assert [ru("days", count=n) for n in (1, 2, 5, 21, 22, 25)] == [
        "1 день",
        "2 дня",
        "5 дней",
        "21 день",
        "22 дня",
        "25 дней",
    ]
    assert ru("points", count=11) == "11 поинтов"
    assert ru("points", count=1000) == "1\xa0000 поинтов"


def test_english_plurals_literally() -> None:
    en = translator("en")
    assert [en("points", count=n) for n in (1, 2)] == ["1 point", "2 points"]
    assert [en("days", count=n) for n in (1, 2)] == ["1 day", "2 days"]
    assert en("points", count=1000) == "1,000 points"


@pytest.mark.parametrize(("key", "arg", "noun"), COUNTED)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_counted_texts_agree_with_their_number(key: str, arg: str, noun: str, lang: str) -> None:
    t = translator(lang)
    forms = (RU_FORMS if lang == "ru" else EN_FORMS)[noun]
    variables = collect(lang, key).variables
    assert arg in variables
    for n, form in forms.items():
        args = {v: PLAUSIBLE.get(v, FALLBACK) for v in variables} | {arg: n}
        text = t(key, **args)
        # "21 поинт" but never "21 поинта"; the number may be in <b>...</b> ("1 more point").
        assert re.search(rf"(?<!\d){n}(</b>)?( more)? {form}(?!\w)", text), (key, n, text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_plural_choice_has_the_languages_forms(lang: str) -> None:
    """A Russian choice on a number needs one/few/many; an English one needs one/other."""
    needed = {"ru": {"one", "few", "many"}, "en": {"one"}}[lang]
    for key in PARSED[lang]:
        for select in collect(lang, key).selects:
            keys = {v.key.name for v in select.variants if isinstance(v.key, fl.Identifier)}
            if keys & {"one", "few", "many"}:  # a plural choice, not a match on a string
                assert needed <= keys, (key, sorted(keys))
                assert any(v.default for v in select.variants), key


# ---------------------------------------------------------------------------- keys used by code


def keys_in_code() -> set[str]:
    """String constants in src/bot that look like message ids (`points-balance`)."""
    pattern = re.compile(r"^[a-z]+(?:-[a-z0-9_]+)+$")
    found = set()
    for path in SRC_BOT.rglob("*.py"):
        for node in pyast.walk(pyast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, pyast.Constant)
                and isinstance(node.value, str)
                and pattern.match(node.value)
            ):
                found.add(node.value)
    return found


def test_every_key_the_bot_uses_exists_in_both_languages() -> None:
    used = keys_in_code()
    used |= {f"tx-{t.value}" for t in TransactionType}
    used |= {f"cmd-{c}" for c in USER_COMMANDS}
    assert "points-balance" in used and "tx-earn_text_request" in used
    for lang in LANGUAGES:
        assert sorted(used - message_ids(lang)) == [], lang
