"""A small client for any OpenAI-compatible chat-completions API (the AI assistant's brain).

One call, one question: POST {base_url}/chat/completions with a system prompt and the user's
question (`answer`), or the question plus pictures as `data:` URI image parts
(`analyse_images`, with the vision model), and return the assistant's text. Every failure becomes an `LLMError` subclass whose
message is a short reason fit for logs (status code, which part of the response was wrong);
the API key never appears in it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from src.metrics import LLM_ERRORS, LLM_LATENCY

if TYPE_CHECKING:
    from config.settings import Settings

DEFAULT_SYSTEM_PROMPT = (
    "You are Syntra, an AI assistant for cryptocurrency and blockchain topics inside a "
    "Telegram bot. Answer concisely and helpfully: lead with the direct answer, use short "
    "paragraphs or lists, and explain terms a beginner may not know. You may discuss markets, "
    "projects, on-chain concepts, security and trading ideas, but you do not give personal "
    "financial advice and never promise or guarantee profits or price movements; when a "
    "question asks what to buy or sell, give balanced information and remind the user that "
    "crypto is risky and the decision is theirs. If you are unsure or your information may be "
    "out of date, say so instead of inventing facts. Always answer in the user's language."
)

VISION_PROMPT = (
    "The user sent one or more pictures, usually a price chart, a trading screen or a "
    "screenshot of a crypto app or post. Describe what matters in them for a crypto user: "
    "for a chart the pair, timeframe, trend, key levels, patterns and indicators you can read; "
    "for a screenshot what it shows and anything risky in it (scam signs, leaked keys or seed "
    "phrases, suspicious links). Say plainly when something cannot be read from the picture."
)

_LANGUAGE_NAMES = {"ru": "Russian", "en": "English"}
_REASON_LIMIT = 80  # characters of an API-supplied error code/type kept in our messages


class LLMError(Exception):
    """Base class: the assistant could not produce an answer."""


class LLMNotConfiguredError(LLMError):
    """No API base URL is configured (LLM_BASE_URL is empty)."""


class LLMTimeoutError(LLMError):
    """The API did not answer within the timeout."""


class LLMUnavailableError(LLMError):
    """HTTP error status, network error, or a malformed or empty response."""


class LLMClient:
    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str,
        timeout: float,
        vision_model: str | None = None,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._base_url = base_url.strip().rstrip("/") if base_url and base_url.strip() else None
        self._api_key = api_key or None
        self._model = model
        self._vision_model = vision_model or model
        self._timeout = timeout
        self._system_prompt = system_prompt
        self._transport = transport
        self._http: httpx.AsyncClient | None = None  # created on first use

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMClient:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(
            base_url=settings.llm_base_url,
            api_key=key,
            model=settings.llm_model,
            vision_model=settings.llm_vision_model,
            timeout=settings.llm_timeout_seconds,
        )

    @property
    def configured(self) -> bool:
        return self._base_url is not None

    async def answer(self, *, question: str, language: str, user_id: int) -> str:
        """The assistant's answer to `question`, in `language` ("ru" or "en"), stripped."""
        return await self._measured(
            self._model, [{"role": "user", "content": question}], language, user_id
        )

    async def analyse_images(
        self, *, images: Sequence[str], question: str, language: str, user_id: int
    ) -> str:
        """The answer to `question` about `images` (`data:` URIs), with the vision model."""
        parts: list[dict[str, Any]] = [{"type": "text", "text": question}]
        parts += [{"type": "image_url", "image_url": {"url": uri}} for uri in images]
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": VISION_PROMPT},
            {"role": "user", "content": parts},
        ]
        return await self._measured(self._vision_model, messages, language, user_id)

    async def _measured(
        self, model: str, messages: list[dict[str, Any]], language: str, user_id: int
    ) -> str:
        started = time.perf_counter()
        try:
            text = await self._complete(model, messages, language, user_id)
        except LLMError as exc:
            label = _ERROR_LABELS.get(type(exc), "error")
            LLM_ERRORS.labels(label).inc()
            LLM_LATENCY.labels(label).observe(time.perf_counter() - started)
            raise
        LLM_LATENCY.labels("ok").observe(time.perf_counter() - started)
        return text

    async def _complete(
        self, model: str, messages: list[dict[str, Any]], language: str, user_id: int
    ) -> str:
        if self._base_url is None:
            raise LLMNotConfiguredError("LLM_BASE_URL is not set")
        language_name = _LANGUAGE_NAMES.get(language, "English")
        system = {
            "role": "system",
            "content": f"{self._system_prompt}\n\nAnswer in {language_name}.",
        }
        body: dict[str, Any] = {
            "model": model,
            "messages": [system, *messages],
            "user": str(user_id),
        }
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"

        url = f"{self._base_url}/chat/completions"
        try:
            # httpx's timeout applies per phase (connect, each read); the outer deadline
            # bounds the whole exchange, so a server trickling bytes cannot hold us longer.
            async with asyncio.timeout(self._timeout):
                response = await self._client().post(url, json=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise LLMTimeoutError(f"no answer within {self._timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise LLMUnavailableError(f"request failed: {type(exc).__name__}") from exc

        if not response.is_success:
            raise LLMUnavailableError(_status_reason(response))
        return _answer_text(response)

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout), transport=self._transport
            )
        return self._http


_ERROR_LABELS: dict[type[LLMError], str] = {
    LLMNotConfiguredError: "not_configured",
    LLMTimeoutError: "timeout",
    LLMUnavailableError: "unavailable",
}


def _status_reason(response: httpx.Response) -> str:
    """'HTTP 401 (invalid_api_key)': the status plus the API's error code or type, if any.

    The API's error *message* is left out: some providers echo part of the key in it.
    """
    reason = f"HTTP {response.status_code}"
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return reason
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        if isinstance(code, str | int) and str(code):
            reason += f" ({str(code)[:_REASON_LIMIT]})"
    return reason


def _answer_text(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError as exc:
        raise LLMUnavailableError("malformed response: body is not JSON") from exc
    if not isinstance(payload, dict):
        raise LLMUnavailableError("malformed response: body is not a JSON object")
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices:
        raise LLMUnavailableError("malformed response: no choices")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise LLMUnavailableError("malformed response: choices[0].message missing")
    content = message.get("content")
    if not isinstance(content, str):
        raise LLMUnavailableError("malformed response: choices[0].message.content is not text")
    text = content.strip()
    if not text:
        raise LLMUnavailableError("empty answer")
    return text
