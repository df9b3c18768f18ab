"""What the ledger shows: balance, history, leaderboard, levels, stats, personal rates.

`PointsReads` is the read side of `PointsService` (its base class): plain queries through the
session factory, turned into the views of src/services/points_types.py. It also owns the
service's sense of time: the configured zone's "now" and "today".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from config.points_config import PointsRules
from src.database import points_queries, user_queries
from src.services.balance_reads import BalanceReads
from src.services.points_math import MAX_PAGE, check_int, effective_tier, request_points
from src.services.points_types import (
    BalanceView,
    HistoryEntry,
    HistoryPage,
    Leaderboard,
    LeaderboardEntry,
    LevelInfo,
    PersonalRates,
    TypeStats,
    UnknownUserError,
    UserStats,
)
from src.services.rank_service import RankService
from src.services.user_types import display_name

Clock = Callable[[], datetime]


async def load_top(session: AsyncSession, limit: int) -> list[LeaderboardEntry]:
    """The first `limit` places of the leaderboard (balance desc, then user id)."""
    rows = await points_queries.top_balances(session, limit)
    return [
        LeaderboardEntry(
            rank=place,
            user_id=uid,
            display_name=display_name(uid, username, first_name),
            balance=balance,
            level=level,
        )
        for place, (uid, balance, level, username, first_name) in enumerate(rows, 1)
    ]


class PointsReads:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        rules: PointsRules,
        timezone: str = "UTC",
        clock: Clock | None = None,
        ranks: RankService | None = None,
    ) -> None:
        self._sessions = session_factory
        # Ranks from an index when given (src/services/rank_service.py), else counted.
        self._ranks = ranks
        # AUTOCOMMIT: each ledger call (PointsService) is a single-statement transaction: one
        # round trip, no BEGIN/COMMIT around it.
        self._ledger_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._balances = BalanceReads(engine)
        self._rules = rules
        self._timezone = timezone
        self._tz = ZoneInfo(timezone)
        # None means "the database clock" (clock_timestamp() after the row lock); tests pass one.
        self._clock = clock

    @property
    def rules(self) -> PointsRules:
        return self._rules

    @property
    def timezone(self) -> str:
        return self._timezone

    def now(self) -> datetime:
        return self._clock() if self._clock else datetime.now(self._tz)

    def today(self) -> date:
        return self.now().astimezone(self._tz).date()

    def until_next_day(self) -> timedelta:
        """Time left until the next day starts in the configured zone (the next daily claim).

        The next local midnight, not "today's midnight + 24 h": DST days last 23 or 25 hours.
        """
        local = self.now().astimezone(self._tz)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=self._tz)
        return timedelta(seconds=midnight.timestamp() - local.timestamp())

    async def get_balance(self, *, user_id: int, language: str = "en") -> BalanceView:
        # The hottest read (every /points, every Mini App call): concurrent reads share one
        # autocommit SELECT on the driver, no ORM session (src/services/balance_reads.py).
        row = await self._balances.row(user_id)
        if row is None:
            raise UnknownUserError(user_id)
        level = self._rules.level(min(row.level, self._rules.max_level))
        if row.level >= self._rules.max_level:
            next_points, progress = 0, 1.0
        else:
            upper = self._rules.level(row.level + 1).points_required
            band = upper - level.points_required
            next_points = max(upper - row.lifetime_earned, 0)
            progress = min(max((row.lifetime_earned - level.points_required) / band, 0.0), 1.0)
        return BalanceView(
            balance=row.balance,
            lifetime_earned=row.lifetime_earned,
            lifetime_spent=row.lifetime_spent,
            level=row.level,
            level_name=level.name(language),
            level_icon=level.icon,
            earning_multiplier=row.earning_multiplier,
            current_streak=self._live_streak(row.current_streak, row.last_daily_login),
            longest_streak=row.longest_streak,
            next_level_points=next_points,
            progress_to_next_level=round(progress, 4),
        )

    async def get_history(self, *, user_id: int, limit: int = 10, offset: int = 0) -> HistoryPage:
        check_int("limit", limit, maximum=MAX_PAGE)
        check_int("offset", offset, minimum=0, maximum=10**9)
        async with self._sessions() as session:
            if not await points_queries.user_exists(session, user_id):
                raise UnknownUserError(user_id)
            rows, total = await points_queries.history(session, user_id, limit=limit, offset=offset)
        entries = [
            HistoryEntry(
                id=r.id,
                transaction_type=r.transaction_type,
                amount=r.amount,
                balance_after=r.balance_after,
                transaction_id=r.transaction_id,
                created_at=r.created_at,
                metadata=dict(r.metadata_json or {}),
            )
            for r in rows
        ]
        return HistoryPage(entries=entries, total=total, limit=limit, offset=offset)

    async def get_leaderboard(self, *, limit: int = 10, user_id: int | None = None) -> Leaderboard:
        check_int("limit", limit, maximum=MAX_PAGE)
        async with self._sessions() as session:
            top = await load_top(session, limit)
            me = next((e for e in top if e.user_id == user_id), None)
            if user_id is not None and me is None:
                row = await points_queries.get_balance_row(session, user_id)
                if row is not None:
                    rank = await self._rank(session, user_id, row.balance)
                    user = await user_queries.get_user(session, user_id)
                    me = LeaderboardEntry(
                        rank=rank,
                        user_id=user_id,
                        display_name=display_name(
                            user_id,
                            user.username if user else None,
                            user.first_name if user else None,
                        ),
                        balance=row.balance,
                        level=row.level,
                    )
        return Leaderboard(top=top, me=me)

    def get_levels(self) -> list[LevelInfo]:
        return [
            LevelInfo(
                level=lvl.level,
                name_ru=lvl.name_ru,
                name_en=lvl.name_en,
                icon=lvl.icon,
                points_required=lvl.points_required,
                earning_multiplier=lvl.earning_multiplier,
                description=lvl.description,
                color=lvl.color,
            )
            for lvl in self._rules.levels
        ]

    async def get_stats(self, *, user_id: int) -> UserStats:
        async with self._sessions() as session:
            row = await points_queries.get_balance_row(session, user_id)
            if row is None:
                raise UnknownUserError(user_id)
            by_type = await points_queries.stats_by_type(session, user_id)
            rank = await self._rank(session, user_id, row.balance)
            referrals = await user_queries.count_referrals(session, user_id)
        stats = {t: TypeStats(count=c, total=s) for t, c, s in by_type}
        earned_today = row.earned_today if row.earned_today_date == self.today() else 0
        return UserStats(
            by_type=stats,
            transactions=sum(s.count for s in stats.values()),
            total_earned=row.lifetime_earned,
            total_spent=row.lifetime_spent,
            earned_today=earned_today,
            daily_cap=self._rules.max_daily_points_earning,
            rank=rank,
            current_streak=self._live_streak(row.current_streak, row.last_daily_login),
            longest_streak=row.longest_streak,
            referrals=referrals,
        )

    async def personal_rates(self, *, user_id: int) -> PersonalRates:
        async with self._sessions() as session:
            row = await points_queries.get_balance_row(session, user_id)
            user = await user_queries.get_user(session, user_id)
        if row is None or user is None:
            raise UnknownUserError(user_id)
        level_mult = self._rules.level(min(row.level, self._rules.max_level)).earning_multiplier
        tier = effective_tier(user.tier, user.tier_expires_at, self.now())
        tier_mult = self._rules.tier_multipliers[tier]
        return PersonalRates(
            level=row.level,
            level_multiplier=level_mult,
            tier=tier.value,
            tier_multiplier=tier_mult,
            requests={
                action.value: request_points(rule.base_points, level_mult, tier_mult)
                for action, rule in self._rules.requests.items()
            },
        )

    async def sync_levels(self) -> None:
        """Make `points_levels` mirror the rules in force (an override file may change them)."""
        rows: list[dict[str, object]] = [lvl.model_dump() for lvl in self._rules.levels]
        async with self._sessions() as session, session.begin():
            await points_queries.replace_levels(session, rows)

    def _live_streak(self, streak: int, last_claim: date | None) -> int:
        # A streak whose last claim is older than yesterday is already broken: show 0.
        if last_claim is None or last_claim < self.today() - timedelta(days=1):
            return 0
        return streak

    async def _rank(self, session: AsyncSession, user_id: int, balance: int) -> int:
        if self._ranks is not None:
            return await self._ranks.rank(session, user_id, balance)
        return await points_queries.rank_of(session, user_id, balance)
