"""The HTTP API (FastAPI) and the Telegram Mini App: `create_api(context)` in app.py."""
