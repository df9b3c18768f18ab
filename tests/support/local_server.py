"""A local HTTP server for the fakes of outside services: 127.0.0.1, a free port, aiohttp."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web


class LocalHttpServer:
    """Subclasses build their routes in `_routes`; `async with` starts and stops the server."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _application(self) -> web.Application:
        return web.Application()

    async def _before_close(self) -> None:
        """Wake anything that waits (long polls) before the server stops."""

    @property
    def origin(self) -> str:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not running; use `async with`")
        return f"http://127.0.0.1:{self._port}"

    async def __aenter__(self) -> Self:
        app = self._application()
        self._routes(app)
        # Cancel a slow handler when the client hangs up, so shutdown does not wait for it.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._before_close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._port = None
