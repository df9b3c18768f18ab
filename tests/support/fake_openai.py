"""A local fake of the OpenAI chat-completions API, speaking the real protocol over HTTP.

async with FakeOpenAI() as fake:
    client = LLMClient(base_url=fake.base_url, ...)
    fake.mode = "slow"        # see Mode below; switchable any time
    fake.reply = "Hi"         # fixed answer text; None answers "Answer: <last user message>"
    fake.expected_key = "sk"  # require "Authorization: Bearer sk" (401 otherwise)
    fake.requests[-1].body    # every request received: JSON body and lower-cased headers
    fake.requests[-1].images  # the (width, height) of each image part it accepted

Image parts (`{"type": "image_url", "image_url": {"url": "data:image/...;base64,..."}}`) are
checked as a vision model's API does: a data URI that does not decode to a picture (Pillow),
or one larger than MAX_IMAGE_SIDE px (our client promises to downscale), gets OpenAI's 400
`invalid_request_error` / `invalid_image` answer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import itertools
import time
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from PIL import Image

from tests.support.local_server import LocalHttpServer

# ok: an answer; slow: an answer after `delay` s; error: 500; malformed: 200 without choices;
# rate_limited: 429 as OpenAI sends it; not_json: 200 with an HTML page (a proxy's error page);
# hang: never answers; disconnect: drops the connection without a response.
Mode = Literal["ok", "slow", "error", "malformed", "rate_limited", "not_json", "hang", "disconnect"]


MAX_IMAGE_SIDE = 2048


class InvalidImageError(ValueError):
    pass


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the parsed JSON body (None if it was not JSON)
    images: tuple[tuple[int, int], ...] = ()  # (width, height) of each image part


class FakeOpenAI(LocalHttpServer):
    def __init__(self) -> None:
        super().__init__()
        self.mode: Mode = "ok"
        self.reply: str | None = None
        self.delay: float = 5.0
        self.expected_key: str | None = None
        self.requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat_completions)

    async def _chat_completions(self, request: web.Request) -> web.Response:
        try:
            body: Any = await request.json()
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            images = _image_sizes(body)
        except InvalidImageError as exc:
            self.requests.append(RecordedRequest(path=request.path, headers=headers, body=body))
            return _error(400, str(exc), "invalid_request_error", "invalid_image")
        self.requests.append(
            RecordedRequest(path=request.path, headers=headers, body=body, images=images)
        )

        wanted = None if self.expected_key is None else f"Bearer {self.expected_key}"
        if wanted is not None and headers.get("authorization") != wanted:
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "'messages' is a required property.", "invalid_request_error", None)

        if self.mode == "error":
            return _error(
                500, "The server had an error while processing your request.", "server_error", None
            )
        if self.mode == "rate_limited":
            return _error(
                429, "Rate limit reached for requests.", "requests", "rate_limit_exceeded"
            )
        if self.mode == "not_json":
            return web.Response(text="<html><body>502 Bad Gateway</body></html>", status=200)
        if self.mode == "hang":
            await asyncio.sleep(3600)  # cancelled when the client hangs up
        if self.mode == "disconnect":
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()  # never reaches the client
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        model = str(body.get("model", "fake-model"))
        if self.mode == "malformed":
            return web.json_response(
                {"id": self._next_id(), "object": "chat.completion", "model": model}
            )

        content = self.reply if self.reply is not None else f"Answer: {_last_user_text(body)}"
        return web.json_response(
            {
                "id": self._next_id(),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": 10,
                    "completion_tokens": len(content.split()),
                    "total_tokens": 10 + len(content.split()),
                },
            }
        )

    def _next_id(self) -> str:
        return f"chatcmpl-fake{next(self._ids)}"


def _last_user_text(body: dict[str, Any]) -> str:
    """The last user message's text (the text parts of a message with images)."""
    for message in reversed(body["messages"]):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content", "")
            if isinstance(content, list):
                texts = [p.get("text", "") for p in content if isinstance(p, dict)]
                images = sum(1 for p in content if isinstance(p, dict) and "image_url" in p)
                return " ".join(t for t in texts if t) + f" [{images} image(s)]"
            return str(content)
    return ""


def _image_sizes(body: Any) -> tuple[tuple[int, int], ...]:
    """The size of every image part; InvalidImageError as the API refuses a bad one."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return ()
    sizes: list[tuple[int, int]] = []
    for message in body["messages"]:
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else []:
            if isinstance(part, dict) and part.get("type") == "image_url":
                sizes.append(_decoded_size(str((part.get("image_url") or {}).get("url", ""))))
    return tuple(sizes)


def _decoded_size(url: str) -> tuple[int, int]:
    header, _, payload = url.partition(",")
    if not (header.startswith("data:image/") and header.endswith(";base64")):
        raise InvalidImageError("Invalid image URL: expected a base64 data URI.")
    try:
        with Image.open(io.BytesIO(base64.b64decode(payload, validate=True))) as image:
            image.load()
            size = image.size
    except (binascii.Error, OSError, ValueError) as exc:
        raise InvalidImageError("Invalid image.") from exc
    if max(size) > MAX_IMAGE_SIDE:
        raise InvalidImageError(f"Image larger than {MAX_IMAGE_SIDE} px on a side.")
    return size


def _error(status: int, message: str, kind: str, code: str | None) -> web.Response:
    payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(payload, status=status)
