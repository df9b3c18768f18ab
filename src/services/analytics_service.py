"""Admin analytics over the points system (SPEC 7, `/points_analytics`): exact at any size.

Ledger figures (lifetime totals, per type, the daily series) add `points_daily_totals`,
which hold every non-zero row created before a watermark instant, to a live aggregate over
the rows since; both are read in one snapshot (src/database/analytics_queries.py). The
watermark trails the clock by `ROLLUP_GRACE` and advances lazily, at most once a minute, on
the reads that find it behind: under an advisory lock, adding only the rows between the old
and the new watermark, together with the state, in one transaction. Totals cut in another
time zone are rebuilt from the ledger. So the live part is minutes of rows, not a day.

The last 24 hours sum that window's rows (BRIN on created_at); its active users, like the
other state figures (users, users with a balance, levels, active streaks), are counted on
the state tables: one scan of points_balances each, no index the earn path would pay for.
Every section is exact. docs/PERFORMANCE.md has the figures at 1 M users and 10 M
transactions.

Semantics: "earned" is the sum of positive amounts, "spent" the sum of negative amounts as
a positive number; counts leave out zero-amount rows (recorded refusals, docs/POINTS_SYSTEM.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import PointsRules
from src.database import analytics_queries as q
from src.services.points_reads import load_top
from src.services.points_types import InvalidInputError, LeaderboardEntry

Clock = Callable[[], datetime]

# The watermark trails the application clock by this much (then down to the minute): covers
# clock skew between the application and the database, whose clock stamps the ledger rows
# (and refresh_rollups never lets the watermark run ahead of the database's clock).
# (A write still in flight is caught by the writers check, see refresh_rollups.) The live
# part of a read is at most two minutes of rows.
ROLLUP_GRACE: Final = timedelta(minutes=1)
MAX_TOP: Final = 100
MAX_SERIES_DAYS: Final = 366


@dataclass(frozen=True)
class Overview:
    users_total: int
    users_with_balance: int
    circulation: int  # points held by users now (= lifetime_earned - lifetime_spent)
    lifetime_earned: int
    lifetime_spent: int


@dataclass(frozen=True)
class Last24h:
    earned: int
    spent: int
    transactions: int  # points movements (refusals left out)
    active_users: int  # users with at least one movement
    new_users: int  # users registered


@dataclass(frozen=True)
class TypeTotal:
    transaction_type: str
    count: int
    total: int  # signed sum of amounts


@dataclass(frozen=True)
class LevelCount:
    level: int
    users: int
    share: float  # of users_total, 0..1


@dataclass(frozen=True)
class StreakStats:
    active: int  # users whose streak is alive: claimed today or yesterday
    average: float  # mean length of the active streaks (0.0 when none)
    longest: int  # the longest active streak (0 when none)
    bands: list[tuple[str, int]]  # active streaks per milestone band: ("1-2", n), ..., ("100+", n)


@dataclass(frozen=True)
class DailyPoint:
    day: date
    earned: int
    spent: int


def streak_bands(milestones: list[int]) -> list[tuple[str, int, int | None]]:
    """(label, lowest, highest or None) bands between the streak milestones:
    1, 3, 7, 14, 30, 100 give 1-2, 3-6, 7-13, 14-29, 30-99, 100+."""
    edges = sorted({1, *(d for d in milestones if d >= 1)})
    bands: list[tuple[str, int, int | None]] = []
    for low, high in zip(edges, [*edges[1:], None], strict=True):
        if high is None:
            bands.append((f"{low}+", low, None))
        else:
            top = high - 1
            bands.append((str(low) if top == low else f"{low}-{top}", low, top))
    return bands


class AnalyticsService:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        session_factory: async_sessionmaker[AsyncSession],
        rules: PointsRules,
        timezone: str,
        clock: Clock | None = None,
    ) -> None:
        self._engine = engine
        self._sessions = session_factory
        self._rules = rules
        self._timezone = timezone
        self._tz = ZoneInfo(timezone)
        self._clock = clock
        self._bands = streak_bands(sorted(rules.streak_bonuses))

    @property
    def timezone(self) -> str:
        return self._timezone

    def now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(self._tz)

    def today(self) -> date:
        return self.now().astimezone(self._tz).date()

    # ------------------------------------------------------------------ sections

    async def overview(self) -> Overview:
        totals = await self._ledger_totals("type")
        earned = sum(t.credits for t in totals)
        spent = sum(t.debits for t in totals)
        async with self._read() as conn:
            users = await q.count_users(conn)
            with_balance = await q.count_users_with_balance(conn)
        return Overview(
            users_total=users,
            users_with_balance=with_balance,
            circulation=earned - spent,
            lifetime_earned=earned,
            lifetime_spent=spent,
        )

    async def last_24h(self) -> Last24h:
        since = self.now() - timedelta(hours=24)
        async with self._read() as conn:
            earned, spent, moves = await q.window_totals(conn, since)
            active = await q.users_moved_since(conn, since)
            new_users = await q.users_created_since(conn, since)
        return Last24h(
            earned=earned, spent=spent, transactions=moves, active_users=active, new_users=new_users
        )

    async def by_type(self) -> list[TypeTotal]:
        merged: dict[str, list[int]] = {}
        for t in await self._ledger_totals("type"):
            acc = merged.setdefault(t.transaction_type, [0, 0])
            acc[0] += t.count
            acc[1] += t.credits - t.debits
        return [
            TypeTotal(transaction_type=name, count=count, total=total)
            for name, (count, total) in sorted(merged.items())
            if count
        ]

    async def levels(self) -> list[LevelCount]:
        top = self._rules.max_level
        users = dict.fromkeys(range(1, top + 1), 0)
        async with self._read() as conn:
            for level, count in await q.level_counts(conn):
                # Levels never go down: a level above the rules' last (after an override
                # removed levels) is shown as the last one, as /points does.
                users[min(max(level, 1), top)] += count
        total = sum(users.values())
        return [
            LevelCount(level=lv, users=n, share=n / total if total else 0.0)
            for lv, n in users.items()
        ]

    async def streaks(self) -> StreakStats:
        yesterday = self.today() - timedelta(days=1)
        async with self._read() as conn:
            rows = await q.active_streaks(conn, yesterday)
        active = sum(n for _, n in rows)
        counts = [0] * len(self._bands)
        for streak, n in rows:
            for i, (_, low, high) in enumerate(self._bands):
                if streak >= low and (high is None or streak <= high):
                    counts[i] += n
                    break
        return StreakStats(
            active=active,
            average=sum(s * n for s, n in rows) / active if active else 0.0,
            longest=max((s for s, _ in rows), default=0),
            bands=[(label, counts[i]) for i, (label, _, _) in enumerate(self._bands)],
        )

    async def top(self, limit: int = 5) -> list[LeaderboardEntry]:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_TOP:
            raise InvalidInputError(f"limit must be a whole number from 1 to {MAX_TOP}")
        async with self._sessions() as session:
            return await load_top(session, limit)

    async def daily_series(self, days: int = 30) -> list[DailyPoint]:
        """The last `days` local days including today, oldest first, days without movements
        as zeros."""
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_SERIES_DAYS:
            raise InvalidInputError(f"days must be a whole number from 1 to {MAX_SERIES_DAYS}")
        today = self.today()
        first = today - timedelta(days=days - 1)
        per_day: dict[date, list[int]] = {first + timedelta(days=i): [0, 0] for i in range(days)}
        for t in await self._ledger_totals("day", since=first):
            acc = per_day.get(t.key) if isinstance(t.key, date) else None
            if acc is not None:  # a row stamped after today (clock skew) is left out
                acc[0] += t.credits
                acc[1] += t.debits
        return [DailyPoint(day=d, earned=e, spent=s) for d, (e, s) in per_day.items()]

    # ------------------------------------------------------------------ rollups

    async def refresh_rollups(self) -> datetime | None:
        """Advance the rollups to the current watermark; returns the watermark in force.

        Cheap when nothing is due (one primary-key read). Safe under concurrency: one
        materialiser at a time (advisory lock), the state re-read under the lock, ranges
        never overlap, and the totals and the state commit together."""
        target = self.watermark()
        async with self._engine.connect() as conn:
            if self._clock is None:
                # Rows are stamped by the database's clock: a watermark ahead of it (this host's
                # clock running fast) would let a row stamped before it commit after the
                # materialisation, counted by neither part. Never run ahead of that clock.
                target = min(target, _down_to_minute(await q.database_now(conn) - ROLLUP_GRACE))
            state = await q.read_state(conn)
        if self._covers(state, target):
            assert state is not None
            return state.rolled_until
        async with self._engine.begin() as conn:
            await q.tune_for_analytics(conn)
            await q.lock_rollups(conn)
            state = await q.read_state(conn)
            if self._covers(state, target):
                assert state is not None
                return state.rolled_until
            until = state.rolled_until if state and state.timezone == self._timezone else None
            if state is not None and state.timezone != self._timezone:
                await q.clear_rollups(conn)  # cut in another zone: rebuild from the ledger
            if await q.writers_started_before(conn, target):
                # Such a writer may still commit a row stamped before the target: leave the
                # watermark where it is (the rows since stay live: still exact), retry later.
                if state is None or state.timezone != self._timezone:
                    await q.save_state(conn, self._timezone, until)
                return until
            await q.materialise(conn, self._timezone, until, target)
            await q.save_state(conn, self._timezone, target)
            return target

    def watermark(self) -> datetime:
        """Where the rollups should reach now: ROLLUP_GRACE ago, down to the whole minute."""
        return _down_to_minute(self.now() - ROLLUP_GRACE)

    def _covers(self, state: q.RollupState | None, target: datetime) -> bool:
        return (
            state is not None
            and state.timezone == self._timezone
            and state.rolled_until is not None
            and state.rolled_until >= target
        )

    async def _ledger_totals(self, group_by: str, since: date | None = None) -> list[q.Totals]:
        await self.refresh_rollups()
        async with self._read(snapshot=True) as conn:
            return await q.ledger_totals(conn, self._timezone, group_by=group_by, since=since)

    def _read(self, *, snapshot: bool = False) -> _ReadTransaction:
        return _ReadTransaction(self._engine, snapshot=snapshot)


def _down_to_minute(moment: datetime) -> datetime:
    return moment - timedelta(seconds=moment.second, microseconds=moment.microsecond)


class _ReadTransaction:
    """A transaction for reads, tuned for analytics and rolled back at the end; REPEATABLE
    READ when one snapshot must serve several statements."""

    def __init__(self, engine: AsyncEngine, *, snapshot: bool) -> None:
        self._engine = engine
        self._snapshot = snapshot
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> AsyncConnection:
        conn = await self._engine.connect()
        try:
            if self._snapshot:
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            await conn.begin()
            await q.tune_for_analytics(conn)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn
        return conn

    async def __aexit__(self, *exc: object) -> None:
        assert self._conn is not None
        try:
            await self._conn.rollback()  # read-only: nothing to keep
        finally:
            await self._conn.close()
