"""A local fake of toncenter's indexer API v3 (`GET /api/v3/transactions`) over HTTP.

async with FakeTonCenter(api_key="k") as fake:
    client = TonCenterClient(base_url=fake.base_url, api_key="k")
    fake.transfer(WALLET, value_nano=10**9, comment="ref")   # an incoming transfer
    fake.transfer(WALLET, ..., bounced=True) / (..., aborted=True) / fake.outgoing(WALLET)
    fake.mode = "error"

Answers as toncenter does: `{"transactions": [...], "address_book": {...}}`, only `lt >=
start_lt`, sorted by lt, at most `limit`; errors as `{"error": "..."}` (401 for a bad key,
422 for a bad parameter, 429 when rate limited, 500).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from typing import Any, Literal

from aiohttp import web

from tests.support.local_server import LocalHttpServer

Mode = Literal["ok", "error", "rate_limited"]
PAYER = "0:" + "ab" * 32


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class FakeTonCenter(LocalHttpServer):
    def __init__(self, *, api_key: str | None = None) -> None:
        super().__init__()
        self.api_key = api_key
        self.mode: Mode = "ok"
        self.accounts: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[dict[str, str]] = []
        self._lt = itertools.count(47_000_000_000_001, 7)
        self._now = itertools.count(1_773_144_000, 5)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/v3"

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v3/transactions", self._transactions)

    async def _transactions(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append(query)
        if self.api_key is not None and request.headers.get("X-API-Key") != self.api_key:
            return _error(401, "API key does not exist")
        if self.mode == "error":
            return _error(500, "internal server error")
        if self.mode == "rate_limited":
            return _error(429, "Ratelimit exceed")
        try:
            start_lt = int(query.get("start_lt", "0"))
            limit = int(query.get("limit", "10"))
        except ValueError:
            return _error(422, "start_lt and limit must be integers")
        if not 1 <= limit <= 1000 or query.get("sort", "desc") not in ("asc", "desc"):
            return _error(422, "limit must be 1..1000, sort asc or desc")
        items = [
            t for t in self.accounts.get(query.get("account", ""), []) if int(t["lt"]) >= start_lt
        ]
        items.sort(key=lambda t: int(t["lt"]), reverse=query.get("sort") == "desc")
        return web.json_response({"transactions": items[:limit], "address_book": {}})

    def transfer(
        self,
        account: str,
        *,
        value_nano: int,
        comment: str | None,
        bounced: bool = False,
        aborted: bool = False,
        source: str | None = PAYER,
    ) -> dict[str, Any]:
        """Record a transaction of `account` whose in_msg carries a transfer (source None: an
        external message, i.e. our own wallet sending)."""
        lt = next(self._lt)
        digest = hashlib.sha256(f"{account}:{lt}".encode()).digest()
        decoded = {"type": "text_comment", "comment": comment} if comment is not None else None
        tx = {
            "account": account,
            "hash": base64.b64encode(digest).decode(),
            "lt": str(lt),
            "now": next(self._now),
            "mc_block_seqno": 51_000_000,
            "orig_status": "active",
            "end_status": "active",
            "total_fees": "2000000",
            "description": {
                "type": "ord",
                "aborted": aborted,
                "destroyed": False,
                "credit_first": bounced,
                "compute_ph": {"skipped": False, "success": not aborted, "exit_code": 0},
            },
            "in_msg": {
                "hash": base64.b64encode(hashlib.sha256(digest).digest()).decode(),
                "source": source,
                "destination": account,
                "value": str(value_nano) if source else None,
                "fwd_fee": "266669",
                "bounce": False,
                "bounced": bounced,
                "created_lt": str(lt - 1),
                "created_at": "1773144000",
                "opcode": "0x00000000" if comment is not None else None,
                "message_content": {
                    "hash": "nY3qH0sE8b4h3uWqJq4p0x2y6v0aJkQ2K0l2sQe1kA0=",
                    "body": "te6cckEBAQEAAgAAAEysuc0=",
                    "decoded": decoded,
                },
            },
            "out_msgs": [],
        }
        self.accounts.setdefault(account, []).append(tx)
        return tx

    def outgoing(self, account: str, *, comment: str | None = None) -> dict[str, Any]:
        """Our own wallet sending: an external in_msg without source or value."""
        return self.transfer(account, value_nano=0, comment=comment, source=None)
