"""What QuotaService hands to handlers and views: a slot for one request, a day's usage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from config.points_config import RequestAction, Tier


@dataclass(frozen=True, slots=True)
class QuotaSlot:
    """The answer to "may this request be served?": serve it only when `granted`.

    A granted slot counts as one served request of the day; give it back with
    `QuotaService.release(slot)` when the request ends up not served.
    """

    user_id: int | None  # None: no registered user (the database is unreachable)
    action: RequestAction
    key: str
    tier: Tier  # the effective tier the limit comes from
    granted: bool
    used: int | None  # served today, this request included when granted; None if not counted
    limit: int | None  # None: unlimited
    resets_at: datetime  # the next local midnight in the bot's zone (aware)
    resets_in: timedelta  # from the moment of the decision
    counted: bool = True  # False: not counted (the database failed): served anyway
    replay: bool = False  # the key held its slot already: a redelivered update

    @property
    def refused(self) -> bool:
        return not self.granted


@dataclass(frozen=True, slots=True)
class ActionUsage:
    action: RequestAction
    used: int
    limit: int | None  # None: unlimited


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """One user's served requests today, per action, against their tier's quotas."""

    tier: Tier
    day: date
    actions: tuple[ActionUsage, ...]  # in RequestAction order
    resets_at: datetime

    @property
    def unlimited(self) -> bool:
        return all(a.limit is None for a in self.actions)

    def of(self, action: RequestAction) -> ActionUsage:
        return next(a for a in self.actions if a.action is action)
