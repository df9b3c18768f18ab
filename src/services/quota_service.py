"""QuotaService: daily quotas of served requests per tier and action (text, vision, chart).

A handler asks before it does the work and gives the slot back if the request ends up not
served, so the quota counts served requests:

    slot = await quotas.take(user, RequestAction.VISION, key)   # key: the ledger key
    if slot.refused:
        await message.answer(quota_refusal_text(t, slot, timezone=quotas.timezone))
        return
    try:
        ...serve (AI call, send)...
    except BaseException:
        await quotas.release(slot)
        raise

Counting is one plpgsql call (`quota_take`, migration 0007) that locks the user's counter for
the day: concurrent requests never pass the limit. The key makes a redelivered update hold one
slot. Quotas never block an answer on a failure of their own: when the database cannot count
(unreachable, slow, no user row), the request is served, and the failure logged and counted
(FailureCounter kind "quota"), like every points failure (SPEC 6).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime, time, timedelta
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from config.points_config import PointsRules, RequestAction, Tier
from src.database import quota_queries
from src.metrics import QUOTA_DECISIONS
from src.services.failures import FailureCounter
from src.services.periodic_jobs import PeriodicJob
from src.services.quota_types import ActionUsage, QuotaSlot, QuotaUsage
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")

# The longest a request waits for the quota's database call before it is served uncounted.
DEFAULT_TIMEOUT_SECONDS: Final = 3.0
# Today's and yesterday's rows are kept (a redelivery just after midnight still finds its
# slot); older ones are purged hourly, in batches.
RETENTION_DAYS: Final = 2
PURGE_INTERVAL_SECONDS: Final = 3600.0
PURGE_BATCH: Final = 5000
PURGE_JOB: Final = "quota-purge"


class QuotaService:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        rules: PointsRules,
        failures: FailureCounter,
        timezone: str = "UTC",
        clock: Clock | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        # Every statement here is a single-statement transaction: no BEGIN/COMMIT round trips.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._rules = rules
        self._failures = failures
        self._timezone = timezone
        self._tz = ZoneInfo(timezone)
        self._clock = clock  # None: the database's clock decides the day (tests pass one)
        self._timeout = timeout
        self._abandoned: set[asyncio.Future[Any]] = set()  # calls given up on, still cleaning up

    @property
    def timezone(self) -> str:
        return self._timezone

    def now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(self._tz)

    def effective_tier(self, user: UserProfile) -> Tier:
        return user.effective_tier(self.now())

    def limit(self, user: UserProfile, action: RequestAction) -> int | None:
        """The user's daily quota of `action` now; None means unlimited."""
        return self._rules.quota(self.effective_tier(user), action)

    def resets_at(self, day: date) -> datetime:
        """When the quotas of local `day` end: the next local midnight (23 or 25 h on DST days)."""
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=self._tz)

    async def take(self, user: UserProfile | None, action: RequestAction, key: str) -> QuotaSlot:
        """A slot for one request of `action`, keyed like its ledger row (`text_req:...`).

        Refused (`granted=False`) when today's quota is used up. Granted without counting
        (`counted=False`) when there is no user or the database failed: quotas fail open.
        """
        action = RequestAction(action)
        if user is None:  # registration already failed, logged and counted
            return self._open(None, Tier.FREE, action, key)
        tier = self.effective_tier(user)
        limit = self._rules.quota(tier, action)
        try:
            result = await self._bounded(
                self._call(
                    quota_queries.take,
                    user_id=user.telegram_id,
                    action=action.value,
                    key=key,
                    limit=limit,
                    tz=self._timezone,
                    now=self._clock() if self._clock else None,
                )
            )
        except Exception:
            total = self._failures.inc("quota")
            log.exception(
                "quota not counted, request served",
                user_id=user.telegram_id,
                action=action.value,
                key=key,
                failures_total=total,
            )
            return self._open(user.telegram_id, tier, action, key)
        resets_at = self.resets_at(result.day)
        slot = QuotaSlot(
            user_id=user.telegram_id,
            action=action,
            key=key,
            tier=tier,
            granted=result.granted,
            used=result.used,
            limit=limit,
            resets_at=resets_at,
            resets_in=max(resets_at - self.now(), timedelta(0)),
            replay=result.replay,
        )
        self._record(slot)
        return slot

    async def release(self, slot: QuotaSlot) -> None:
        """Give back the slot of a request that was not served; never raises.

        A slot that was refused or not counted holds nothing: nothing to give back. Releasing
        twice gives back once.
        """
        if not (slot.granted and slot.counted and slot.user_id is not None):
            return
        try:
            released = await self._bounded(
                self._call(quota_queries.release, user_id=slot.user_id, key=slot.key)
            )
        except Exception:
            total = self._failures.inc("quota")
            log.exception(
                "quota slot not given back",
                user_id=slot.user_id,
                key=slot.key,
                failures_total=total,
            )
            return
        if released:
            QUOTA_DECISIONS.labels(slot.action.value, "released").inc()
            log.info("quota slot given back", user_id=slot.user_id, key=slot.key)

    async def usage(self, user: UserProfile) -> QuotaUsage | None:
        """Today's served requests per action against the user's quotas; None (logged and
        counted) when the database cannot tell, so a screen can leave the line out."""
        try:
            day, used = await self._bounded(
                self._call(
                    quota_queries.usage,
                    user_id=user.telegram_id,
                    tz=self._timezone,
                    now=self._clock() if self._clock else None,
                )
            )
        except Exception:
            total = self._failures.inc("quota")
            log.exception("quota usage unavailable", user_id=user.telegram_id, failures_total=total)
            return None
        tier = self.effective_tier(user)
        actions = tuple(
            ActionUsage(action, used.get(action.value, 0), self._rules.quota(tier, action))
            for action in RequestAction
        )
        return QuotaUsage(tier=tier, day=day, actions=actions, resets_at=self.resets_at(day))

    async def purge(self) -> int:
        """Delete the counters and slots of days before yesterday; the number of rows deleted."""
        today = self.now().astimezone(self._tz).date()
        cutoff = today - timedelta(days=RETENTION_DAYS - 1)
        total = 0
        async with self._engine.connect() as conn:
            while deleted := await quota_queries.purge(conn, cutoff=cutoff, batch=PURGE_BATCH):
                total += deleted
        if total:
            log.info("old quota rows purged", rows=total, before=cutoff.isoformat())
        return total

    def purge_job(self) -> PeriodicJob:
        async def run() -> None:
            await self.purge()

        return PeriodicJob(name=PURGE_JOB, interval_seconds=PURGE_INTERVAL_SECONDS, run=run)

    async def aclose(self) -> None:
        """Wait for the calls given up on (each cancelled already) to finish cleaning up."""
        if self._abandoned:
            await asyncio.gather(*self._abandoned, return_exceptions=True)

    # ------------------------------------------------------------------ internals

    async def _call(self, query: Callable[..., Awaitable[T]], **params: Any) -> T:
        async with self._engine.connect() as conn:
            return await query(conn, **params)

    async def _bounded(self, call: Coroutine[Any, Any, T]) -> T:
        """`call`, or TimeoutError after the timeout, and then at once: a cancelled database
        call can take a while to clean up (cancel request, connection reset), and the user's
        answer must not wait for that. The call finishes cancelling in the background."""
        task = asyncio.ensure_future(call)
        try:
            return await asyncio.wait_for(asyncio.shield(task), self._timeout)
        except BaseException:
            if not task.done():
                task.cancel()
                self._abandoned.add(task)
                task.add_done_callback(self._forget)
            raise

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: it was logged as a timeout already

    def _open(self, user_id: int | None, tier: Tier, action: RequestAction, key: str) -> QuotaSlot:
        """A slot granted without counting: the request is served (fail open)."""
        QUOTA_DECISIONS.labels(action.value, "open").inc()
        resets_at = self.resets_at(self.now().astimezone(self._tz).date())
        return QuotaSlot(
            user_id=user_id,
            action=action,
            key=key,
            tier=tier,
            granted=True,
            used=None,
            limit=self._rules.quota(tier, action),
            resets_at=resets_at,
            resets_in=max(resets_at - self.now(), timedelta(0)),
            counted=False,
        )

    @staticmethod
    def _record(slot: QuotaSlot) -> None:
        result = "replay" if slot.replay else "granted" if slot.granted else "refused"
        QUOTA_DECISIONS.labels(slot.action.value, result).inc()
        if slot.refused:
            log.info(
                "quota used up, request refused",
                user_id=slot.user_id,
                action=slot.action.value,
                tier=slot.tier.value,
                used=slot.used,
                limit=slot.limit,
                key=slot.key,
            )
        elif slot.replay:
            log.info("quota slot already held (redelivery)", user_id=slot.user_id, key=slot.key)
