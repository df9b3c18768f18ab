"""GET /api/health (is the database reachable) and GET /metrics (Prometheus)."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from src.api.deps import State
from src.api.errors import documented
from src.api.schemas import HealthOut
from src.database.health import ping
from src.metrics import exposition

log = structlog.get_logger(__name__)

HEALTH_TIMEOUT = 2.0  # a load balancer's probe must get an answer, not hang with the database


def create_router() -> APIRouter:
    router = APIRouter(tags=["system"])
    router.add_api_route(
        "/api/health",
        health,
        methods=["GET"],
        response_model=HealthOut,
        responses=documented(503),
    )
    router.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    return router


async def health(state: State) -> HealthOut | JSONResponse:
    """200 when the database answers within 2 s, else 503."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await ping(state.context.engine)
    except Exception as exc:
        log.warning("health check failed", reason=type(exc).__name__)
        body = {"error": "unavailable", "detail": "the database is not reachable"}
        return JSONResponse(body, status_code=503)
    return HealthOut(status="ok", database="ok")


async def metrics() -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)
