"""The admin role as a router filter: `router.message.filter(AdminFilter())`.

UserMiddleware has already decided the role (`ADMIN_IDS` or the user's `is_admin` flag) and put
it into handler data as `is_admin`; the filter only reads it, so there is one source of truth.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject


class AdminFilter(Filter):
    async def __call__(self, event: TelegramObject, is_admin: bool = False) -> bool:
        return is_admin
