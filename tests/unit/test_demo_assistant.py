"""The offline demo assistant: a canned answer per topic, in the user's language, labelled."""

from __future__ import annotations

import pytest

from config.settings import load_settings
from src.bootstrap import build_llm
from src.locales import translator
from src.services.demo_assistant import DemoAssistant, demo_topic
from src.services.llm_client import LLMClient


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What is Bitcoin?", "bitcoin"),
        ("Что такое биткоин?", "bitcoin"),
        ("how does ETH work", "ethereum"),
        ("Расскажи про эфириум", "ethereum"),
        ("Should I buy bitcoin now?", "price"),  # a price call wins over the coin
        ("Какой курс BTC будет завтра?", "price"),
        ("Is staking safe?", "staking"),
        ("Что такое стейкинг", "staking"),
        ("explain DeFi lending", "defi"),
        ("где хранить сид-фразу от кошелька", "wallet"),
        ("what is a blockchain", "blockchain"),
        ("Hello!", "greeting"),
        ("Привет", "greeting"),
        ("What's the weather in Paris?", "other"),
        ("Theta method", "other"),  # "eth" inside a word is not Ethereum
    ],
)
def test_each_question_finds_its_topic(question: str, topic: str) -> None:
    assert demo_topic(question) == topic


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_answers_are_labelled_and_in_the_users_language(lang: str) -> None:
    demo = DemoAssistant()
    answer = await demo.answer(question="What is Bitcoin?", language=lang, user_id=1)
    t = translator(lang)
    assert answer == f"{t('demo-label')}\n\n{t('demo-bitcoin')}"
    assert answer.startswith("🧪")
    await demo.aclose()


def test_llm_base_url_demo_builds_the_demo_and_nothing_else_does() -> None:
    demo = build_llm(load_settings(_env_file=None, LLM_BASE_URL="Demo"))
    assert isinstance(demo, DemoAssistant) and demo.configured
    real = build_llm(load_settings(_env_file=None, LLM_BASE_URL="http://127.0.0.1:1/v1"))
    assert type(real) is LLMClient
    unset = build_llm(load_settings(_env_file=None, LLM_BASE_URL=""))
    assert type(unset) is LLMClient and not unset.configured
