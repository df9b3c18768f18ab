import asyncio, cProfile, pstats
from datetime import UTC, datetime
import httpx
from config.settings import load_settings
from src.bootstrap import build_context
from src.api.app import create_api
from src.api.init_data import sign_init_data
from bench.bench_db import resolve_database

async def main():
    db = resolve_database(None)
    s = load_settings(_env_file=None, BOT_TOKEN="777000:BENCH-TOKEN", API_RATE_LIMIT_PER_MINUTE="1000000", API_RATE_LIMIT_BURST="100000")
    ctx = build_context(s, database_url=db.url)
    app = create_api(ctx)
    hs = [{"Authorization": "tma " + sign_init_data("777000:BENCH-TOKEN", user_id=u, auth_date=datetime.now(UTC))} for u in range(1, 2001)]
    async def call(scope_headers):
        # drive the ASGI app directly (no httpx), to see only the server side
        sent = []
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                 "path": "/api/points/balance", "raw_path": b"/api/points/balance", "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"t"), (b"authorization", scope_headers["Authorization"].encode())],
                 "client": ("127.0.0.1", 1), "server": ("t", 80)}
        async def receive(): return {"type": "http.request", "body": b"", "more_body": False}
        async def send(m): sent.append(m)
        await app(scope, receive, send)
        return sent
    for h in hs: await call(h)
    import time
    c0=time.process_time()
    for i in range(2000): await call(hs[i])
    print("server-side cpu us/req", (time.process_time()-c0)/2000*1e6)
    pr=cProfile.Profile(); pr.enable()
    for i in range(2000): await call(hs[i])
    pr.disable()
    st=pstats.Stats(pr); st.sort_stats("tottime").print_stats(30)
    await ctx.close()
asyncio.run(main())
