"""A local fake of OKX's public REST API v5, as ccxt's okx client calls it for /chart.

async with FakeExchange() as fake:
    env["EXCHANGE_API_URL"] = fake.base_url   # EXCHANGE=okx (the default)
    fake.mode = "rate_limited"                # see Mode below; switchable any time
    fake.requests                             # every request: path and query

What ccxt calls (ccxt/async_support/okx.py): `load_markets` with options
fetchMarkets.types = ["spot"] -> GET /api/v5/public/instruments?instType=SPOT, and
`fetch_ohlcv(symbol, "4h", limit=300)` -> GET /api/v5/market/candles?instId=BTC-USDT&bar=4H
&limit=300 (bars 15m, 1H, 4H, and 1Dutc for a UTC day). Answers are OKX's
`{"code": "0", "msg": "", "data": [...]}`, candles newest first as
[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm], the newest with confirm "0" (still open).
Errors are OKX's too: code 51001 for an unknown instrument, 51000 for a bad parameter, HTTP
429 with code 50011 when rate limited, 503 with 50001 in maintenance.

The candles come from tests/support/fixtures/okx_candles_btc_usdt_4h.json (okx's response
shape, 300 candles); other instruments and bars reuse that series scaled to their price, and
timestamps are moved so the newest candle is the one open now.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

from tests.support.local_server import LocalHttpServer

FIXTURE = Path(__file__).parent / "fixtures" / "okx_candles_btc_usdt_4h.json"
BARS = {"15m": 900, "1H": 3600, "4H": 14_400, "1D": 86_400, "1Dutc": 86_400}
# instId -> price scale against the BTC fixture (None: listed minutes ago, a few candles only)
INSTRUMENTS: dict[str, float | None] = {
    "BTC-USDT": 1.0,
    "ETH-USDT": 0.035,
    "SOL-USDT": 0.0016,
    "TON-USDT": 0.00004,
    "DOGE-USDT": 0.0000025,
    "ETH-BTC": 0.00000035,
    "NEW-USDT": None,
}

# ok: answers; slow: answers after `delay` s; down: 503 with an HTML page (a proxy in front of
# a dead exchange); maintenance: 503 with OKX's 50001; rate_limited: 429 with OKX's 50011.
Mode = Literal["ok", "slow", "down", "maintenance", "rate_limited"]


@dataclass(frozen=True)
class ExchangeRequest:
    path: str
    query: dict[str, str]


def load_fixture() -> list[list[str]]:
    """The recorded candles, newest first, exactly as OKX sends them."""
    return list(json.loads(FIXTURE.read_text(encoding="utf-8"))["data"])


class FakeExchange(LocalHttpServer):
    def __init__(self) -> None:
        super().__init__()
        self.mode: Mode = "ok"
        self.delay = 5.0
        self.requests: list[ExchangeRequest] = []
        self._candles = load_fixture()

    @property
    def base_url(self) -> str:
        """What EXCHANGE_API_URL should be set to (it replaces https://www.okx.com)."""
        return self.origin

    def calls(self, path: str) -> list[ExchangeRequest]:
        return [r for r in self.requests if r.path == path]

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v5/public/instruments", self._instruments)
        app.router.add_get("/api/v5/market/candles", self._market_candles)

    async def _gate(self, request: web.Request) -> web.Response | None:
        self.requests.append(ExchangeRequest(request.path, dict(request.query)))
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        elif self.mode == "down":
            return web.Response(status=503, text="<html>503 Service Unavailable</html>")
        elif self.mode == "maintenance":
            return _okx(503, "50001", "Service temporarily unavailable. Please try again later.")
        elif self.mode == "rate_limited":
            return _okx(429, "50011", "Too Many Requests")
        return None

    async def _instruments(self, request: web.Request) -> web.Response:
        if (refusal := await self._gate(request)) is not None:
            return refusal
        if request.query.get("instType") != "SPOT":  # the client must ask for spot only
            return _okx(200, "51000", "Parameter instType error")
        return _ok([_instrument(inst_id) for inst_id in INSTRUMENTS])

    async def _market_candles(self, request: web.Request) -> web.Response:
        if (refusal := await self._gate(request)) is not None:
            return refusal
        inst_id, bar = request.query.get("instId", ""), request.query.get("bar", "1m")
        if inst_id not in INSTRUMENTS:
            return _okx(200, "51001", f"Instrument ID {inst_id} does not exist")
        if bar not in BARS:
            return _okx(200, "51000", "Parameter bar error")
        limit = min(int(request.query.get("limit") or 100), 300)
        scale = INSTRUMENTS[inst_id]
        rows = self._candles[: 5 if scale is None else limit]
        return _ok(_moved(rows, BARS[bar] * 1000, scale or 0.5))


def _moved(rows: list[list[str]], bar_ms: int, scale: float) -> list[list[str]]:
    """The fixture's candles as if the newest were the one open now, prices scaled."""
    newest = int(time.time() * 1000) // bar_ms * bar_ms
    out = []
    for i, row in enumerate(rows):
        prices = [f"{float(v) * scale:.10g}" for v in row[1:5]]
        out.append([str(newest - i * bar_ms), *prices, *row[5:8], "0" if i == 0 else "1"])
    return out


def _instrument(inst_id: str) -> dict[str, Any]:
    base, quote = inst_id.split("-")
    return {
        "instType": "SPOT",
        "instId": inst_id,
        "instFamily": "",
        "uly": "",
        "baseCcy": base,
        "quoteCcy": quote,
        "settleCcy": "",
        "ctVal": "",
        "ctMult": "",
        "ctValCcy": "",
        "ctType": "",
        "alias": "",
        "category": "1",
        "expTime": "",
        "listTime": "1548133413000",
        "lever": "10",
        "lotSz": "0.00000001",
        "minSz": "0.00001",
        "maxLmtSz": "9999999999",
        "maxMktSz": "1000000",
        "optType": "",
        "stk": "",
        "state": "live",
        "tickSz": "0.1",
        "ruleType": "normal",
    }


def _ok(data: list[Any]) -> web.Response:
    return web.json_response({"code": "0", "msg": "", "data": data})


def _okx(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "msg": message, "data": []}, status=status)
