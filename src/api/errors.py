"""One JSON error shape for every refusal the API makes, and the handlers that produce it.

`{"error": "<code>", "detail": "<what to do>"}`; FastAPI's own 422 body for invalid query
parameters is kept (its schema is in the OpenAPI document).
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError

log = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    error: str
    detail: str


class ApiError(Exception):
    def __init__(
        self, status: int, error: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers


def error_response(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=error, detail=detail).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: these statuses return ErrorBody (shown in the OpenAPI)."""
    return {status: {"model": ErrorBody} for status in statuses}


# Unknown query parameters are refused with FastAPI's own 422 body on routes that take none.
UNKNOWN_QUERY: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "Validation Error",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
        },
    }
}


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.error, exc.detail, exc.headers)

    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        log.error("database unavailable", path=request.url.path, reason=type(exc).__name__)
        return error_response(
            503, "unavailable", "the service is temporarily unavailable; try again shortly"
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled API error", path=request.url.path, exc_info=exc)
        return error_response(500, "internal", "something went wrong on our side")

    app.add_exception_handler(ApiError, api_error)
    for kind in (OperationalError, InterfaceError, OSError, TimeoutError):
        app.add_exception_handler(kind, database_down)
    app.add_exception_handler(Exception, unexpected)
