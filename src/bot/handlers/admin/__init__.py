"""The admin panel (docs/ADMIN_PANEL.md): one module per screen, assembled here.

`create_routers()` returns two routers, in the order updates must meet them:

1. the panel: its admin filter is set once, on the parent router, for messages and callback
   queries alike, so no screen can forget it; the screens are its sub-routers;
2. the refusals: right after the panel, it sees only what the filter turned away. A non-admin's
   admin command gets exactly the unknown-command answer (the panel is not advertised), a
   non-admin's admin button a refusal alert; both are logged with the user id.
"""

from __future__ import annotations

from aiogram import Router

from src.bot.filters.admin import AdminFilter
from src.bot.handlers.admin import (
    amounts,
    analytics,
    config,
    menu,
    refunds,
    refusals,
    user_card,
)


def create_routers() -> list[Router]:
    panel = Router(name=__name__)
    panel.message.filter(AdminFilter())
    panel.callback_query.filter(AdminFilter())
    panel.include_routers(
        menu.create_router(),
        analytics.create_router(),
        config.create_router(),
        amounts.create_router(),
        user_card.create_router(),
        refunds.create_router(),
        refusals.create_stale_router(),  # last: admin buttons none of the screens understood
    )
    return [panel, refusals.create_refusal_router()]
