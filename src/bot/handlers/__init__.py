"""Every router of the bot, assembled in one place, in the order updates should meet them."""

from __future__ import annotations

from aiogram import Router

from src.bot.handlers import (
    admin,
    chat,
    errors,
    help,
    language,
    payments,
    paysupport,
    points,
    stale_callbacks,
    start,
)


def create_routers() -> list[Router]:
    return [
        errors.create_router(),
        start.create_router(),
        points.create_router(),
        language.create_router(),
        help.create_router(),
        payments.create_router(),
        paysupport.create_router(),
        # Admins only (the filter is on the router); right after it, what it turned away.
        *admin.create_routers(),
        # Feature routers go above this line; the catch-alls below must stay last.
        stale_callbacks.create_router(),
        chat.create_router(),
    ]
