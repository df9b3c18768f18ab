"""A local fake of the OpenAI chat-completions API, speaking the real protocol over HTTP.

async with FakeOpenAI() as fake:
    client = LLMClient(base_url=fake.base_url, ...)
    fake.mode = "slow"        # see Mode below; switchable any time
    fake.reply = "Hi"         # fixed answer text; None answers "Answer: <last user message>"
    fake.expected_key = "sk"  # require "Authorization: Bearer sk" (401 otherwise)
    fake.requests[-1].body    # every request received: JSON body and lower-cased headers
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from tests.support.local_server import LocalHttpServer

# ok: an answer; slow: an answer after `delay` s; error: 500; malformed: 200 without choices;
# rate_limited: 429 as OpenAI sends it; not_json: 200 with an HTML page (a proxy's error page);
# hang: never answers; disconnect: drops the connection without a response.
Mode = Literal["ok", "slow", "error", "malformed", "rate_limited", "not_json", "hang", "disconnect"]


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the parsed JSON body (None if it was not JSON)


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
        self.requests.append(RecordedRequest(path=request.path, headers=headers, body=body))

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
    for message in reversed(body["messages"]):
        if isinstance(message, dict) and message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def _error(status: int, message: str, kind: str, code: str | None) -> web.Response:
    payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(payload, status=status)
