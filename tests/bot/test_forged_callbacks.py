"""Forged or stale callback data (issue: `pts:history:99999999999` gave "Something went wrong"
and an error log). Whatever data a client sends, the press gets exactly one answer: the
stale-button alert or a correct screen, never an error.

The grammar is every `CallbackData` class of the bot (found, not listed, so a router added
later is covered): its prefix, then fields that are right, wrong, huge, negative, empty or
missing, plus arbitrary data up to Telegram's 64 bytes. Pressed by a user and by an admin.
"""

from __future__ import annotations

import importlib
import pkgutil
from enum import Enum
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import src.bot.handlers
from src.bootstrap import AppContext
from src.services.points_service import PointsService
from tests.bot.helpers import tr, user_with_points
from tests.conftest import ADMIN_ID
from tests.support.factories import create_user
from tests.support.telegram import BotHarness, texts

USER = 640_001
HUGE = [2**31, 2**63 - 1, 2**63, 2**64, 10**30, 99_999_999_999]


def callback_classes() -> list[type[CallbackData]]:
    for module in pkgutil.walk_packages(src.bot.handlers.__path__, "src.bot.handlers."):
        importlib.import_module(module.name)
    found: list[type[CallbackData]] = []
    stack = list(CallbackData.__subclasses__())
    while stack:
        cls = stack.pop()
        stack += cls.__subclasses__()
        if cls.__module__.startswith("src."):
            found.append(cls)
    return sorted(found, key=lambda c: c.__prefix__)


def _values(annotation: Any) -> st.SearchStrategy[str]:
    ints = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([*HUGE, 0, -1])).map(str)
    junk = st.text(st.characters(blacklist_characters=":", codec="utf-8"), max_size=12)
    choices = [ints, junk, st.sampled_from(["", "0", "1", "true", "false", "None", "1e9"])]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices.append(st.sampled_from([str(m.value) for m in annotation]))
    return st.one_of(*choices)


@st.composite
def forged(draw: st.DrawFn) -> str:
    cls = draw(st.sampled_from(callback_classes()))
    parts = [_values(f.annotation) for f in cls.model_fields.values()]
    values = [draw(p) for p in parts]
    extra = draw(st.lists(_values(str), max_size=2))
    keep = draw(st.integers(0, len(values)))  # fields missing, all there, or too many
    return ":".join([cls.__prefix__, *values[:keep], *(extra if keep == len(values) else [])])


def short(data: str) -> bool:
    return 0 < len(data.encode()) <= 64


callback_data = st.one_of(
    forged(),
    st.text(max_size=64),
    st.sampled_from(
        [
            "pts:history:99999999999",
            "pts:history:-1",
            "pts:nope",
            "pts",
            "adm_us:99999999999999999999:0:0",
            "adm_qg:640001:-100",
            "adm_qd:640001:99999999999",
            "lang:de",
            ":",
            "unknown:1",
        ]
    ),
).filter(short)


def one_answer_no_error(requests: list[TelegramMethod[Any]], lang: str) -> None:
    answers = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
    assert len(answers) == 1, requests
    generic = tr(lang)("error-generic")
    assert generic not in texts(requests) and answers[0].text != generic


@pytest.fixture
async def people(context: AppContext, points: PointsService) -> AppContext:
    await user_with_points(context.sessions, points, USER, "en", 300)
    await create_user(context.sessions, telegram_id=ADMIN_ID)
    return context


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=callback_data, admin=st.booleans())
async def test_any_callback_data_gets_an_answer_never_an_error(
    harness: BotHarness, people: AppContext, data: str, admin: bool
) -> None:
    presser = ADMIN_ID if admin else USER

    requests = await harness.press(data, user_id=presser, message_text=f"screen for {data!r}")

    one_answer_no_error(requests, "en")
    assert people.failures.get("handler") == 0, data


@pytest.mark.parametrize(
    "data", ["pts:history:99999999999", "pts:history:-5", "adm_us:18446744073709551616:0:0"]
)
async def test_known_forgeries_get_a_screen_or_the_stale_alert(
    harness: BotHarness, people: AppContext, data: str
) -> None:
    requests = await harness.press(data, user_id=ADMIN_ID)

    one_answer_no_error(requests, "en")
    assert people.failures.get("handler") == 0


def test_the_grammar_covers_every_router() -> None:
    prefixes = {cls.__prefix__ for cls in callback_classes()}
    assert {"pts", "lang", "menu", "adm", "adm_us", "adm_qg", "adm_qd"} <= prefixes
