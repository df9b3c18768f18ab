"""GET /api/app/texts: the Mini App's texts (Fluent `app-*` messages, src/locales/*/app.ftl).

The page ships no strings of its own: every text the user reads lives in src/locales like the
bot's, in both languages. With valid init data the user's own language is used (the one
chosen with /language); without any, `lang` decides, so the page can still explain a failed
login in the user's language. Placeholders come back as `{name}` for the page to fill.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from src.api.deps import State, authenticate, reject_unknown_query, tma_header
from src.api.errors import UNKNOWN_QUERY, documented
from src.api.schemas import TextsOut
from src.locales import message_ids, translator

PREFIX = "app-"
PLACEHOLDERS = ("level", "missing", "name", "balance", "page", "pages", "rank", "points")


def create_router() -> APIRouter:
    router = APIRouter(prefix="/api/app", tags=["mini app"])
    router.add_api_route(
        "/texts",
        texts,
        methods=["GET"],
        response_model=TextsOut,
        responses={**documented(401), **UNKNOWN_QUERY},
        # Init data is optional here (`{}` = no credentials is fine too).
        openapi_extra={"security": [{}, {"TelegramInitData": []}]},
    )
    return router


@cache
def app_texts(language: str) -> dict[str, str]:
    t = translator(language)
    markers = {name: f"{{{name}}}" for name in PLACEHOLDERS}
    ids = sorted(i for i in message_ids(t.language) if i.startswith(PREFIX))
    return {i.removeprefix(PREFIX): t(i, **markers) for i in ids}


async def texts(
    request: Request,
    state: State,
    authorization: Annotated[str | None, Depends(tma_header)],
    lang: Annotated[Literal["ru", "en"], Query(description="used without init data")] = "en",
) -> TextsOut:
    """The Mini App's texts in the user's language."""
    if authorization:
        lang = "ru" if (await authenticate(state, authorization)).language == "ru" else "en"
    reject_unknown_query(request)
    return TextsOut(language=lang, texts=app_texts(lang))
