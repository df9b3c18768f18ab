"""The API process as production runs it, plus one bare FastAPI endpoint: the baseline that
`bench/api_bench.py` measures GET /api/points/balance against, on the same server.

python -m bench.api_server        (settings from the environment, like python -m src.api)
"""

from __future__ import annotations

import sys

from fastapi import FastAPI

BARE_PATH = "/bench/bare"


def add_bare_route(app: FastAPI) -> None:
    async def bare() -> dict[str, bool]:
        """No dependency, no database: what FastAPI + uvicorn cost on their own."""
        return {"ok": True}

    app.add_api_route(BARE_PATH, bare, methods=["GET"], include_in_schema=False)


def main() -> int:
    from src.api.__main__ import preflight, run_api
    from src.logging_config import configure_logging

    settings = preflight()
    if settings is None:
        return 2
    configure_logging(
        level=settings.log_level, fmt=settings.log_format, log_file=settings.log_dir / "api.log"
    )
    # The same shape as production: API_WORKERS processes (one per core by default).
    return run_api(settings, extend=add_bare_route)


if __name__ == "__main__":
    sys.exit(main())
