"""Texts in Russian and English from Fluent files (`src/locales/<lang>/*.ftl`).

Fluent gives correct Russian plurals (1 поинт, 2 поинта, 5 поинтов) from CLDR rules.
Handlers ask a `Translator` for a message id; no user-facing string lives in Python code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fluent.runtime import FluentBundle, FluentResource

LOCALES_DIR = Path(__file__).resolve().parent
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "en"

Arg = str | int | float | Decimal | date | datetime


class MissingTextError(KeyError):
    pass


class Translator:
    """Formats one language's messages; `t("points-balance", balance=10)`."""

    def __init__(self, language: str, bundle: FluentBundle) -> None:
        self.language = language
        self._bundle = bundle

    def __call__(self, key: str, /, **args: Arg) -> str:
        if not self._bundle.has_message(key):
            raise MissingTextError(f"no text {key!r} in language {self.language!r}")
        message = self._bundle.get_message(key)
        if message.value is None:
            raise MissingTextError(f"text {key!r} ({self.language}) has no value")
        # Fluent formats numbers by locale (1 000 in Russian); Decimals go in as floats.
        fluent_args = {k: float(v) if isinstance(v, Decimal) else v for k, v in args.items()}
        text, errors = self._bundle.format_pattern(message.value, fluent_args)
        if errors:
            raise MissingTextError(f"text {key!r} ({self.language}): {errors[0]}")
        return str(text)

    def has(self, key: str) -> bool:
        return bool(self._bundle.has_message(key))


def transaction_label(t: Translator, transaction_type: str) -> str:
    """A ledger row's type as users read it (`tx-*` texts), "Other" for unknown types."""
    key = f"tx-{transaction_type}"
    return t(key) if t.has(key) else t("tx-other")


def _bundle(language: str) -> FluentBundle:
    bundle = FluentBundle([language], use_isolating=False)
    for path in sorted((LOCALES_DIR / language).glob("*.ftl")):
        bundle.add_resource(FluentResource(path.read_text(encoding="utf-8")))
    return bundle


@lru_cache(maxsize=len(LANGUAGES))
def translator(language: str) -> Translator:
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    return Translator(lang, _bundle(lang))


def message_ids(language: str) -> set[str]:
    """Every message id defined for `language` (used by the parity test)."""
    ids: set[str] = set()
    for path in (LOCALES_DIR / language).glob("*.ftl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and line[0].isalpha() and "=" in line:
                ids.add(line.split("=", 1)[0].strip())
    return ids


def all_translators() -> Mapping[str, Translator]:
    return {lang: translator(lang) for lang in LANGUAGES}
