"""No secret in any log line, whichever library writes it (src/logging_config.py).

Logging is configured as bot.py does (JSON lines to a file, and stderr), with the secrets of a
real Settings object; the file and stderr are then searched for every secret. A test of the
same kind against a real bot.py process (a Bot API server in a redirect loop) is in
tests/e2e/test_secrets_in_logs.py.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog

from config.settings import Settings, load_settings
from src.logging_config import MASK, Redactor, configure_logging, secret_values
from src.services.llm_client import LLMClient
from tests.support.fake_openai import FakeOpenAI

BOT_TOKEN = "7311122334:AAHk3Zr9vQ_xY2w-8LmNoPqRsTuVwXyZ012"
LLM_KEY = "sk-proj-Zt81mQ4rXv"
WEBHOOK_SECRET = "hook-secret-42"
DB_PASSWORD = "pg-pa55word"
SECRETS = (BOT_TOKEN, BOT_TOKEN.split(":")[1], LLM_KEY, WEBHOOK_SECRET, DB_PASSWORD)


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        _env_file=None,
        BOT_TOKEN=BOT_TOKEN,
        LLM_API_KEY=LLM_KEY,
        WEBHOOK_URL="https://bot.example.org/hook",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
    )


Lines = Callable[[], str]


@pytest.fixture
def logs(tmp_path: Path, settings: Settings) -> Iterator[Lines]:
    """Logging configured as bot.py does; returns everything written (file + stderr) so far.

    The process-wide state it changes (root handlers, structlog, hooks) is put back after.
    """
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, structlog.get_config())
    hooks = (sys.excepthook, threading.excepthook)
    log_file = tmp_path / "bot.log"
    configure_logging(level="INFO", log_file=log_file, secrets=secret_values(settings))
    ours = list(root.handlers)
    stderr = io.StringIO()  # what the stderr handler writes, kept apart from pytest's capture
    for handler in ours:
        if type(handler) is logging.StreamHandler:
            handler.setStream(stderr)

    def read() -> str:
        for handler in ours:
            handler.flush()
        return log_file.read_text(encoding="utf-8") + stderr.getvalue()

    try:
        yield read
    finally:
        for handler in ours:
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        structlog.configure(**saved[2])
        sys.excepthook, threading.excepthook = hooks
        logging.captureWarnings(False)


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked:\n{text}"


def test_secret_settings_are_every_secretstr(settings: Settings) -> None:
    assert set(secret_values(settings)) == {BOT_TOKEN, LLM_KEY, WEBHOOK_SECRET}


def test_a_library_logging_the_bot_api_url_is_masked(logs: Lines) -> None:
    """What aiogram's polling logs when the Bot API server redirects in a loop."""
    url = f"http://127.0.0.1:8081/bot{BOT_TOKEN}/getUpdates"
    logging.getLogger("aiogram.dispatcher").error(
        "Failed to fetch updates - %s: %s",
        "TelegramNetworkError",
        f"HTTP Client says - TooManyRedirects: 10, message='', url='{url}'",
    )
    text = logs()
    assert_clean(text)
    assert f"/bot{MASK}/getUpdates" in text
    (record,) = [json.loads(line) for line in text.splitlines() if line.startswith("{")][:1]
    assert record["logger"] == "aiogram.dispatcher" and record["level"] == "error"


def test_structlog_events_and_tracebacks_are_masked(logs: Lines) -> None:
    log = structlog.get_logger("test.redaction")
    log.info(
        "settings",
        token=BOT_TOKEN,
        nested={"headers": {"Authorization": f"Bearer {LLM_KEY}"}, "list": [WEBHOOK_SECRET]},
        database=f"postgresql://syntra:{DB_PASSWORD}@db.internal:5432/syntra",
        query=f"https://api.example.org/v1?api_key={LLM_KEY}&model=x",
    )
    try:
        raise ConnectionError(f"cannot reach https://syntra:{DB_PASSWORD}@llm.example.org/v1")
    except ConnectionError:
        log.exception("llm down")
    try:
        raise RuntimeError(f"bad token {BOT_TOKEN}")
    except RuntimeError:
        logging.getLogger("aiohttp.client").exception("stdlib traceback")
    text = logs()
    assert_clean(text)
    assert f"syntra:{MASK}@db.internal" in text and f"Bearer {MASK}" in text
    assert "api_key=***&model=x" in text
    assert "ConnectionError" in text and "RuntimeError" in text  # the tracebacks are kept


def test_a_token_shaped_string_is_masked_even_if_not_configured(logs: Lines) -> None:
    other = "5550001112:BBQk3Zr9vQ_xY2w-8LmNoPqRsTuVwXyZ999"
    logging.getLogger("asyncpg").warning("odd %s", other)
    text = logs()
    assert other not in text and other.split(":")[1] not in text


def test_short_secrets_are_not_masked_in_ordinary_words() -> None:
    redactor = Redactor(["abc", WEBHOOK_SECRET])
    assert redactor.redact("abc and hook-secret-42") == f"abc and {MASK}"


async def test_httpx_logging_an_llm_url_with_credentials_is_masked(
    logs: Lines, fake_llm: FakeOpenAI
) -> None:
    fake_llm.mode, fake_llm.reply = "ok", "fine"
    base = fake_llm.base_url.replace("http://", f"http://syntra:{DB_PASSWORD}@")
    client = LLMClient(base_url=base, api_key=LLM_KEY, model="m", timeout=5)
    try:
        assert await client.answer(question="hi", language="en", user_id=1) == "fine"
    finally:
        await client.aclose()
        fake_llm.reply = None
    text = logs()
    assert "HTTP Request: POST" in text  # httpx did log the request
    assert_clean(text)
    assert f"syntra:{MASK}@127.0.0.1" in text


def test_uncaught_exceptions_and_warnings_are_logged_masked(logs: Lines) -> None:
    try:
        raise ValueError(f"crash with {LLM_KEY}")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"deprecated url http://u:{DB_PASSWORD}@h/x", UserWarning, stacklevel=1)
    thread = threading.Thread(target=lambda: (_ for _ in ()).throw(OSError(BOT_TOKEN)))
    thread.start()
    thread.join()
    text = logs()
    assert_clean(text)
    assert "uncaught exception" in text and "crash with" in text
    assert "deprecated url" in text and "OSError" in text
