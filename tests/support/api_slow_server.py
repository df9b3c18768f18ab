"""The API as `python -m src.api` runs it (API_WORKERS included), plus GET /test/slow?seconds=S
that answers after S seconds: a request in flight, for the graceful-stop tests.

python -m tests.support.api_slow_server   (settings from the environment)
"""

from __future__ import annotations

import asyncio
import os
import sys

from fastapi import FastAPI


def add_slow_route(app: FastAPI) -> None:
    import structlog

    log = structlog.get_logger("test")

    async def slow(seconds: float = 2.0) -> dict[str, int]:
        log.info("slow request started")  # the test waits for these before it stops the API
        await asyncio.sleep(seconds)
        return {"pid": os.getpid()}

    app.add_api_route("/test/slow", slow, methods=["GET"])


def main() -> int:
    from src.api.__main__ import preflight, run_api
    from src.logging_config import configure_logging

    settings = preflight()
    if settings is None:
        return 2
    configure_logging(
        level=settings.log_level, fmt=settings.log_format, log_file=settings.log_dir / "api.log"
    )
    return run_api(settings, extend=add_slow_route)


if __name__ == "__main__":
    sys.exit(main())
