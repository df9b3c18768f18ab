"""The offline demo assistant: `LLM_BASE_URL=demo`, or `:demo on` in the console.

It lets a newcomer try the chat (and see a question earn points) without an AI service: it
answers a handful of crypto topics from canned texts in the user's language, every answer
labelled as a demo. It is an `LLMClient`, so the chat handler cannot tell it apart, and it is
built where every LLM client is built (`src/bootstrap.build_llm`). The bot refuses to start
with it (bot.py): Telegram users must never get canned answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from config.settings import LLM_DEMO
from src.locales import translator
from src.services.llm_client import LLMClient

# First match wins: a question about buying Bitcoin gets the "no price calls" answer.
_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (topic, re.compile(pattern, re.IGNORECASE))
    for topic, pattern in (
        (
            "price",
            r"\b(price|buy|sell|invest\w*|pump|moon|go up|go down|цен\w*|курс\w*|купит\w*"
            r"|продат\w*|покупат\w*|продават\w*|инвест\w*|вырастет|упадёт|упадет)\b",
        ),
        ("bitcoin", r"\b(bitcoin\w*|btc|биткоин\w*|биткойн\w*)\b"),
        ("ethereum", r"\b(ethereum|ether|eth|эфир\w*)\b"),
        ("staking", r"\b(stak\w*|стейк\w*|валидатор\w*|validator\w*)\b"),
        ("defi", r"\b(defi|дефи|lending|liquidity|ликвидност\w*)\b"),
        ("wallet", r"\b(wallet\w*|seed|кошел\w*|сид\w*)\b"),
        ("blockchain", r"\b(blockchain\w*|блокчейн\w*|block|блок\w*)\b"),
        ("greeting", r"^\W*(hi|hello|hey|привет\w*|здравствуй\w*|добрый)\b"),
    )
)


def demo_topic(question: str) -> str:
    """Which canned answer fits `question` ("other" when none does)."""
    for topic, pattern in _TOPICS:
        if pattern.search(question):
            return topic
    return "other"


class DemoAssistant(LLMClient):
    """Answers locally, at once, never fails: nothing to connect to, nothing to configure."""

    def __init__(self) -> None:
        super().__init__(base_url=LLM_DEMO, api_key=None, model="demo", timeout=1)

    async def answer(self, *, question: str, language: str, user_id: int) -> str:
        t = translator(language)
        return f"{t('demo-label')}\n\n{t(f'demo-{demo_topic(question)}')}"

    async def analyse_images(
        self, *, images: Sequence[str], question: str, language: str, user_id: int
    ) -> str:
        t = translator(language)
        return f"{t('demo-label')}\n\n{t('demo-vision', count=len(images))}"
