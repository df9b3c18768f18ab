"""Bounded field types for callback data: a forged or stale value outside them does not parse,
so the press falls through to the stale-button alert instead of reaching a query.

Telegram lets a client send any data up to 64 bytes; a value the bot would never have written
(a page of 10^11, a negative page) is refused at the door.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_PAGE = 1_000_000  # far past any real history page; keeps OFFSET small

Page = Annotated[int, Field(ge=0, le=MAX_PAGE)]
# User ids, amounts and action ids stay plain ints: the admin service answers any of them
# with its own alert (unknown user, not positive, too large, no such action) before a query.
