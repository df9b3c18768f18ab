"""A local fake of the Telegram Bot API, speaking the real HTTP protocol aiogram's session uses.

async with FakeTelegram(token="123456:TEST") as fake:
    env["TELEGRAM_API_BASE"] = fake.base_url      # bot.py: TelegramAPIServer.from_base(...)
    fake.push_update(fake.message_update("hi", user_id=42))   # served by getUpdates
    call = await fake.wait_for("sendMessage", lambda c: c.params["chat_id"] == 42)
    fake.calls                                     # every call: method + decoded params

Requests are POST {base}/bot{token}/{method} with url-encoded, multipart (files) or JSON
fields; answers are {"ok": true, "result": ...} or {"ok": false, "error_code", "description"}
as Telegram sends them. getUpdates long-polls: it answers at once with the queued updates whose
update_id >= offset, otherwise waits for one (at most `timeout` seconds, capped by
`long_poll_cap` so a test never waits long and shutdown is never blocked). Like Telegram, an
edit that changes neither the text nor the keyboard of a message sent through this server is
refused with 400 "message is not modified" (`refuse_no_op_edits=False` accepts it).

Files users sent (`add_file`) are served like Telegram serves them to a bot: getFile answers
a File with a `file_path` (400 "Bad Request: file is too big" above 20 MB, 400 "Bad Request:
invalid file_id" for an unknown id), and GET {base}/file/bot{token}/{file_path} returns the
bytes (404 for a wrong token or path). `file_downloads` lists the paths fetched.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from src.bot.telegram_rules import NO_MEDIA, MessageStore, message_content
from tests.support.fake_telegram_payments import StarsPayments
from tests.support.local_server import LocalHttpServer

# Fields Telegram treats as strings even when they look like numbers or JSON.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "secret_token",
        "url",
        "language_code",
        "callback_query_id",
        "action",
        "parse_mode",
        "inline_message_id",
        "file_id",
    }
)


BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API's getFile limit


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    size: int  # as Telegram reports it (a test may claim more than it stores)


@dataclass(frozen=True)
class TelegramCall:
    method: str  # as in the URL, e.g. "sendMessage"
    params: dict[str, Any]  # decoded fields (JSON-serialised values parsed back)
    files: dict[str, bytes] = field(default_factory=dict)  # multipart file parts by field name
    at: float = field(default_factory=time.monotonic)
    caller: str = ""  # which client made it, when it came through `base_url_for(caller)`


class FakeTelegram(StarsPayments, LocalHttpServer):
    def __init__(
        self,
        *,
        token: str = "123456:TEST",
        bot_username: str = "syntra_test_bot",
        long_poll_cap: float = 1.0,
        refuse_no_op_edits: bool = True,
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Syntra",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.long_poll_cap = long_poll_cap
        self.calls: list[TelegramCall] = []
        self.webhook: dict[str, Any] | None = None  # the last setWebhook's params
        self.messages = MessageStore(refuse_no_op_edits=refuse_no_op_edits)
        # A misconfigured proxy in front of the Bot API: every request redirected to itself.
        self.redirect_loop = False
        self._updates: list[dict[str, Any]] = []
        # Update ids go on across runs, as Telegram's do: a test never reuses one that an
        # earlier test left marked as handled in the shared database (bot_update_marks).
        self._update_ids = itertools.count(time.time_ns() // 1_000_000 % 10**11)
        self._message_ids = itertools.count(1)
        self._photo_messages: set[tuple[int, int]] = set()
        self._user_message_ids = itertools.count(50_000)
        self.files: dict[str, StoredFile] = {}
        self.file_downloads: list[str] = []
        self._file_numbers = itertools.count(1)
        self._changed = asyncio.Event()
        self._closing = False
        self._init_payments()

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE should be set to."""
        return self.origin

    def base_url_for(self, caller: str) -> str:
        """A TELEGRAM_API_BASE whose calls are recorded with `caller` (one per process)."""
        return f"{self.origin}/via/{caller}"

    def _application(self) -> web.Application:
        return web.Application(client_max_size=20 * 1024 * 1024)  # photos arrive as multipart

    def _routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("*", "/via/{caller}/bot{token}/{method}", self._handle)
        app.router.add_get("/via/{caller}/file/bot{token}/{path:.+}", self._download)

    async def _before_close(self) -> None:
        self._closing = True
        self._changed.set()  # wake long polls

    # ------------------------------------------------------------------ test API
    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (Bot API JSON form); an update_id is assigned when missing."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        self._changed.set()
        return update

    def message_update(
        self,
        text: str,
        *,
        user_id: int,
        language_code: str = "en",
        first_name: str | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """A private-chat text message from a user, as Telegram delivers it (with entities)."""
        message: dict[str, Any] = {
            "message_id": message_id or next(self._user_message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": first_name or f"U{user_id}"},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"U{user_id}",
                "language_code": language_code,
            },
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def add_file(self, data: bytes, *, suffix: str = "jpg", size: int | None = None) -> StoredFile:
        """A file as if a user had sent it; `size` overrides the size Telegram reports."""
        number = next(self._file_numbers)
        folder = "photos" if suffix in {"jpg", "jpeg"} else "documents"
        stored = StoredFile(
            file_id=f"AgACAgIAAx{number:06d}",
            file_unique_id=f"AQAD{number:04d}",
            file_path=f"{folder}/file_{number}.{suffix}",
            data=data,
            size=len(data) if size is None else size,
        )
        self.files[stored.file_id] = stored
        return stored

    def photo_update(
        self,
        stored: StoredFile,
        *,
        user_id: int,
        caption: str | None = None,
        media_group_id: str | None = None,
        dimensions: tuple[int, int] = (1280, 720),
    ) -> dict[str, Any]:
        """A private-chat photo message from a user (its largest size being `stored`)."""
        update = self.message_update("", user_id=user_id)
        message = update["message"]
        del message["text"]
        width, height = dimensions
        message["photo"] = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
                "file_size": stored.size,
            }
        ]
        if caption is not None:
            message["caption"] = caption
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        return update

    def callback_update(
        self, data: str, *, user_id: int, message_id: int, language_code: str = "en"
    ) -> dict[str, Any]:
        """The user pressed a button with `data` under the bot's message `message_id`."""
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            "text": "menu",
        }
        query = {
            "id": f"cbq{next(self._update_ids)}",
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": f"U{user_id}",
                "language_code": language_code,
            },
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def calls_to(self, method: str) -> list[TelegramCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[TelegramCall], bool] | None = None,
        *,
        timeout: float = 20.0,
    ) -> TelegramCall:
        """The first recorded call of `method` matching `predicate` (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise TimeoutError(f"no matching {method} within {timeout} s; calls: {seen}")
            await asyncio.sleep(0.05)

    # ------------------------------------------------------------------ the protocol
    async def _handle(self, request: web.Request) -> web.Response:
        if self.redirect_loop:
            raise web.HTTPFound(request.path_qs)
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_params(request)
        caller = request.match_info.get("caller", "")
        self.calls.append(TelegramCall(method=method, params=params, files=files, caller=caller))
        answer = getattr(self, f"_m_{method.lower()}", None)
        if answer is None:
            return _error(404, "Not Found: method not found")
        result = await answer(params)
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        found = next((f for f in self.files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or found is None:
            return _error(404, "Not Found")
        self.file_downloads.append(path)
        return web.Response(body=found.data, content_type="application/octet-stream")

    async def _m_getfile(self, params: dict[str, Any]) -> Any:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            return _error(400, "Bad Request: invalid file_id")
        if stored.size > BOT_DOWNLOAD_LIMIT:
            return _error(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            return _error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        if offset:  # confirms every update before it, as Telegram does
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.long_poll_cap)
        deadline = time.monotonic() + wait
        while not self._updates and not self._closing:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                break
        return self._updates[:limit]

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        if not params.get("url"):
            return _error(400, "Bad Request: bad webhook: an HTTPS URL must be provided")
        self.webhook = params
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        url = (self.webhook or {}).get("url", "")
        return {
            "url": url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_deletemycommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_sendchataction(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        if not params.get("text"):
            return _error(400, "Bad Request: message text is empty")
        message = self._message(params, text=params["text"])
        self._remember(message, params, _content(params, "text", "entities"))
        return message

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        if not params.get("text"):
            return _error(400, "Bad Request: message text is empty")
        return self._edit(params, _content(params, "text", "entities"), text=params["text"])

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        return self._edit(params, None)

    async def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        if not params.get("photo") and "photo" not in self.calls[-1].files:
            return _error(400, "Bad Request: there is no photo in the request")
        fields: dict[str, Any] = {"photo": self._photo_sizes()}
        if params.get("caption"):
            fields["caption"] = params["caption"]
        message = self._message(params, **fields)
        self._remember(message, params, _content(params, "caption", "caption_entities"))
        self._photo_messages.add((message["chat"]["id"], message["message_id"]))
        return message

    async def _m_editmessagemedia(self, params: dict[str, Any]) -> Any:
        """A new photo (an upload: `attach://<part>`) for a photo message; Telegram refuses a
        message without media, a missing part, and the same file with the same caption."""
        media = params.get("media")
        if not isinstance(media, dict) or media.get("type") != "photo":
            return _error(400, "Bad Request: can't parse InputMedia: media not found")
        chat_id, message_id = int(params.get("chat_id") or 0), int(params["message_id"])
        if self.messages.knows(chat_id, message_id) and (
            (chat_id, message_id) not in self._photo_messages
        ):
            return _error(400, NO_MEDIA)
        source = str(media.get("media", ""))
        if source.startswith("attach://"):
            if source.removeprefix("attach://") not in self.calls[-1].files:
                return _error(400, "Bad Request: can't parse InputMedia: media not found")
        else:  # re-sending a file id: unchanged when the caption and keyboard are too
            refusal = self.messages.refusal(
                chat_id,
                message_id,
                _content(media, "caption", "caption_entities"),
                params.get("reply_markup"),
            )
            if refusal is not None:
                return _error(400, refusal)
        content = _content(media, "caption", "caption_entities")
        self.messages.edited(chat_id, message_id, content, params.get("reply_markup"))
        self._photo_messages.add((chat_id, message_id))
        fields: dict[str, Any] = {"photo": self._photo_sizes()}
        if media.get("caption"):
            fields["caption"] = media["caption"]
        return self._message(params, message_id=message_id, **fields)

    def _photo_sizes(self) -> list[dict[str, Any]]:
        file_id = f"photo-{len(self.calls)}"
        return [{"file_id": file_id, "file_unique_id": file_id, "width": 1, "height": 1}]

    def _edit(self, params: dict[str, Any], content: Any, **fields: Any) -> Any:
        """An edit of a message this server sent is compared with it, as Telegram does."""
        message_id = int(params["message_id"])
        chat_id = int(params.get("chat_id") or 0)
        markup = params.get("reply_markup")
        refusal = self.messages.refusal(chat_id, message_id, content, markup)
        if refusal is not None:
            return _error(400, refusal)
        self.messages.edited(chat_id, message_id, content, markup)
        return self._message(params, message_id=message_id, **fields)

    def _remember(self, message: dict[str, Any], params: dict[str, Any], content: Any) -> None:
        self.messages.remember(
            message["chat"]["id"], message["message_id"], content, params.get("reply_markup")
        )

    def _message(
        self, params: dict[str, Any], *, message_id: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise web.HTTPBadRequest(
                text=json.dumps(
                    {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}
                ),
                content_type="application/json",
            )
        message: dict[str, Any] = {
            "message_id": message_id or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")},
            **fields,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        body = await request.json() if request.can_read_body else {}
        return (dict(body) if isinstance(body, dict) else {}), files
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            data = await part.read()
            if part.filename:
                files[part.name] = bytes(data)
            else:
                params[part.name] = _decode(part.name, bytes(data).decode("utf-8"))
        return params, files
    form = await request.post()  # url-encoded (or empty)
    for name, value in form.items():
        if isinstance(value, str):
            params[name] = _decode(name, value)
    params.update({k: _decode(k, v) for k, v in request.query.items() if k not in params})
    return params, files


def _decode(name: str, value: str) -> Any:
    """aiogram sends objects and lists as JSON, numbers and booleans as their JSON text."""
    if name in _STRING_FIELDS:
        return value
    if value[:1] in ("{", "[") or value in {"true", "false"} or value.lstrip("-").isdigit():
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _content(params: dict[str, Any], text_field: str, entities_field: str) -> Any:
    text = params.get(text_field)
    if not isinstance(text, str):
        return None
    return message_content(text, params.get("parse_mode"), params.get(entities_field))


def _error(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )
