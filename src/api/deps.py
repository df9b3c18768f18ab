"""FastAPI dependencies: the shared state, the authenticated user, the Bot.

`CurrentUser` authenticates once per request (Mini App init data, see init_data.py): a
missing, forged or expired header ends the request with one 401, so a route that takes
`user: CurrentUser` always has a registered user. A valid user the bot has not seen yet is
registered on the spot, through the same `UserService.register` the bot uses (src/api/state.py). `CallerDep`
adds the per-user rate limit and the user's texts (the points routes use it).

All `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from aiogram import Bot
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader

from src.api.errors import ApiError
from src.api.init_data import InitDataError
from src.api.state import ApiState
from src.locales import Translator, translator
from src.services.points_service import PointsService
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)

# Documented in the OpenAPI as a security scheme (Swagger's "Authorize" button).
tma_header = APIKeyHeader(
    name="Authorization",
    scheme_name="TelegramInitData",
    description="`tma <initData>`: the Mini App's raw `Telegram.WebApp.initData`",
    auto_error=False,
)


async def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(get_state)]


async def get_bot(state: State) -> Bot:
    """The Bot for messages sent from the API process (payment notifications)."""
    return state.bot


BotDep = Annotated[Bot, Depends(get_bot)]


async def authenticate(state: ApiState, authorization: str | None) -> UserProfile:
    """The registered user behind valid init data; ApiError 401 otherwise."""
    try:
        tg_user = state.verifier.user(authorization, now=state.context.points.now())
    except InitDataError as exc:
        log.info("init data refused", reason=str(exc))  # the reason only: never the data
        raise ApiError(401, "unauthorized", str(exc), {"WWW-Authenticate": "tma"}) from None
    return await state.user(tg_user)


async def current_user(
    request: Request, authorization: Annotated[str | None, Depends(tma_header)]
) -> UserProfile:
    return await authenticate(request.app.state.api, authorization)


CurrentUser = Annotated[UserProfile, Depends(current_user)]


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated, rate-limited request of a user: who, in which language, and the
    service that answers it."""

    user: UserProfile
    t: Translator
    points: PointsService


async def caller(request: Request) -> Caller:
    """401 (init data), then 429 (rate limit), then 422 (unknown query parameters). One
    dependency with no dependency of its own (the header is read here, and documented by
    `SECURED`): FastAPI's work per dependency is a measurable part of a balance request."""
    state: ApiState = request.app.state.api
    user = await authenticate(state, request.headers.get("authorization"))
    wait = await state.limiter.hit(f"user:{user.telegram_id}")
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests; try again in {seconds} s",
            {"Retry-After": str(seconds)},
        )
    reject_unknown_query(request)
    return Caller(user=user, t=translator(user.language), points=state.context.points)


CallerDep = Annotated[Caller, Depends(caller)]
# The OpenAPI security of a route that takes `CallerDep` (Swagger's "Authorize" button).
SECURED: dict[str, Any] = {"security": [{tma_header.scheme_name: []}]}

_KNOWN_QUERY: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request) -> None:
    """422 for query parameters the route does not take: a typo (`?limt=5`) is an error the
    caller should see, not a silently ignored wish."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _KNOWN_QUERY.get(id(route))
    if known is None:
        known = _KNOWN_QUERY[id(route)] = frozenset(_query_names(route.dependant))
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": "Unknown query parameter",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )
