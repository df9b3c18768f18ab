"""Every router of the API, assembled in one place (the twin of src/bot/handlers/__init__.py).

A feature adds its router here. Payments: `src/api/routes/payments.py` with
`create_router()` returning `APIRouter(prefix="/api/payments", tags=["payments"])`; its
provider callbacks authenticate by the provider's signature, not by Mini App init data, so
that router does not use `CurrentUser`; routes that need to message users take `BotDep`.
"""

from __future__ import annotations

from fastapi import APIRouter

from src.api.routes import payments, points, system, texts


def create_routers() -> list[APIRouter]:
    return [
        points.create_router(),  # first: the Mini App's calls are matched without a detour
        system.create_router(),
        texts.create_router(),
        payments.create_router(),  # provider callbacks, authenticated by their signatures
    ]
