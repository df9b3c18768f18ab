"""TON: the transfer link of an invoice and the toncenter v3 client that reads the wallet.

A TON invoice is an amount in nanotons (1 TON = 10^9) and a comment that names the purchase;
the user's wallet opens `ton://transfer/<address>?amount=<nanotons>&text=<comment>`. We learn
of the payment by reading our wallet's transactions from toncenter's indexer (v3):

    GET {base}/transactions?account=<wallet>&start_lt=<lt>&sort=asc&limit=<n>   (X-API-Key)
    {"transactions": [{"hash", "lt", "now", "description": {"aborted", ...},
                       "in_msg": {"source", "value", "bounced",
                                  "message_content": {"decoded": {"comment"}}}}, ...]}

`lt` (logical time) orders one account's transactions, so it is the poller's cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any
from urllib.parse import quote, urlencode

import httpx

NANO = Decimal(10) ** 9


class TonCenterError(RuntimeError):
    """toncenter refused or could not be reached; the next poll tries again."""


@dataclass(frozen=True, slots=True)
class TonTransfer:
    """One transaction of our wallet, reduced to what deciding a payment needs."""

    hash: str
    lt: int
    now: int  # unix time
    aborted: bool
    incoming: bool  # an internal message from another account (not our own outgoing transfer)
    source: str | None
    value_nano: int
    bounced: bool
    comment: str | None


def to_nano(amount: Decimal) -> int:
    """TON → nanotons, rounded up (an invoice never asks for less than the price)."""
    return int((amount * NANO).to_integral_value(rounding=ROUND_CEILING))


def from_nano(nano: int) -> Decimal:
    return (Decimal(nano) / NANO).normalize()


def transfer_link(address: str, nano: int, comment: str) -> str:
    query = urlencode({"amount": str(nano), "text": comment}, quote_via=quote)
    return f"ton://transfer/{address}?{query}"


def parse_transaction(item: dict[str, Any]) -> TonTransfer:
    """A toncenter v3 transaction object as a TonTransfer (ValueError when malformed)."""
    in_msg = item.get("in_msg") or {}
    description = item.get("description") or {}
    content = in_msg.get("message_content") or {}
    decoded = content.get("decoded") or {}
    comment = decoded.get("comment") if isinstance(decoded, dict) else None
    source = in_msg.get("source")
    return TonTransfer(
        hash=str(item["hash"]),
        lt=int(item["lt"]),
        now=int(item.get("now") or 0),
        aborted=bool(description.get("aborted", False)),
        incoming=bool(source),
        source=str(source) if source else None,
        value_nano=int(in_msg.get("value") or 0),
        bounced=bool(in_msg.get("bounced", False)),
        comment=comment.strip() if isinstance(comment, str) else None,
    )


class TonCenterClient:
    """Reads one account's transactions, oldest first, from a logical time on."""

    def __init__(self, *, base_url: str, api_key: str | None, timeout: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        headers = {"X-API-Key": api_key} if api_key else {}
        self._http = httpx.AsyncClient(timeout=timeout, headers=headers)

    async def transactions(self, account: str, *, start_lt: int, limit: int) -> list[TonTransfer]:
        params: dict[str, str | int] = {
            "account": account,
            "start_lt": start_lt,
            "sort": "asc",
            "limit": limit,
        }
        try:
            response = await self._http.get(f"{self._base}/transactions", params=params)
        except httpx.HTTPError as exc:
            raise TonCenterError(f"toncenter unreachable: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise TonCenterError(f"toncenter answered HTTP {response.status_code}: {error}")
        items = body.get("transactions")
        if not isinstance(items, list):
            raise TonCenterError("toncenter answered without transactions")
        try:
            return [parse_transaction(item) for item in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise TonCenterError(f"toncenter sent a malformed transaction: {exc!r}") from None

    async def aclose(self) -> None:
        await self._http.aclose()
