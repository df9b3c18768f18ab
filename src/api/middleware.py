"""HTTP metrics for every request: latency and status by route template (src/metrics.py).

A plain ASGI middleware (not BaseHTTPMiddleware): it adds no task or stream per request, so
its cost on the hot path is two clock reads and two label lookups.
"""

from __future__ import annotations

import time

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.metrics import HTTP_LATENCY, HTTP_REQUESTS


def route_label(scope: Scope) -> str:
    """The matched route's template (`/api/points/history`), never the raw path, so that
    random URLs cannot create new series."""
    route = scope.get("route")
    if isinstance(route, BaseRoute):
        return str(getattr(route, "path", "unmatched")) or "unmatched"
    return "unmatched"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response started

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            method, route = scope["method"], route_label(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
