"""Fill a database with a ledger of realistic shape: `python -m bench.seed_data`.

N users and exactly M ledger rows over D local days, written through the normal schema
(migrated to head), consistent the way the write path would have left it:

- every user's rows chain (`balance_before` = previous `balance_after`, in id order), never go
  below zero, and the balance row equals the ledger (`./manage.sh audit` invariants 1-4);
- request earns respect the minimum interval (a request inside it is a recorded
  `rate_limited` refusal) and the daily cap (`partially_capped` / `capped`), so the audit's
  cap and interval checks hold too; spends and admin deducts never exceed what is there
  (otherwise a recorded `insufficient_funds` refusal);
- daily logins once per local day with the streak and milestone bonus the rules give, and the
  balance row's streak fields and level follow from them.

Shape: users arrive over the window at a growing rate (Pareto-distributed activity: many
light users, a few heavy ones, a handful of abusers who hit the cap); every user claims the
daily bonus on the day they join; the rest is mostly text requests, daily logins, some chart
and vision requests, and rare referrals, subscriptions, spends and admin operations.
Request amounts use base x tier x a level multiplier estimated from the points earned so
far (exact levels would need a fixed point; the stored level follows the final lifetime).

Generation is set-based SQL (generate_series and window functions) in chunks of users into a
temporary table, then one insert per day in time order (so ids follow time, as in
production); the ledger's secondary indexes and foreign key are dropped during the load and
rebuilt from their own definitions afterwards; VACUUM (ANALYZE) at the end.

Default database: the embedded server's `syntra_bench_analytics` (kept apart from the earn
benchmark's `syntra_bench`, whose schema that benchmark drops on every run); or
--database-url / BENCH_DATABASE_URL. Its schema is dropped and migrated to head first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from tqdm import tqdm

from bench.bench_db import BENCH_URL_ENV, BenchDatabase, resolve_database
from config.points_config import PointsRules, RequestAction, TransactionType, load_points_rules
from config.settings import get_settings

ANALYTICS_DATABASE = "syntra_bench_analytics"
USERS_PER_CHUNK = 50_000

REQUEST_PREFIX = {
    RequestAction.TEXT: "text_req",
    RequestAction.VISION: "vision_req",
    RequestAction.CHART: "chart_req",
}
# Share of the "activity slots" (everything but daily logins, referrals, subscriptions).
SLOT_MIX = (
    (TransactionType.ADMIN_GRANT.value, 0.00025),
    (TransactionType.ADMIN_DEDUCT.value, 0.0001),
    (TransactionType.SPEND.value, 0.015),
    (RequestAction.VISION.value, 0.085),
    (RequestAction.CHART.value, 0.135),
    (RequestAction.TEXT.value, 1.0),  # the rest
)
SPEND_PRICES = (100, 200, 500, 1000)


def resolve_analytics_database(given: str | None) -> BenchDatabase:
    """--database-url / BENCH_DATABASE_URL, else the embedded server's own analytics database."""
    if given or os.environ.get(BENCH_URL_ENV):
        return resolve_database(given)
    from src.database.embedded import ensure_database, ensure_running

    server = ensure_running(get_settings().data_dir)
    ensure_database(server, ANALYTICS_DATABASE)
    return BenchDatabase(
        url=server.url(ANALYTICS_DATABASE),
        pgbench=str(server.bin_dir / "pgbench"),
        conn_args=["-h", str(server.socket_dir), "-p", str(server.port), "-U", "postgres"],
        dbname=ANALYTICS_DATABASE,
        where=f"embedded server, database {ANALYTICS_DATABASE}",
    )


@dataclass(frozen=True)
class SeedPlan:
    users: int
    transactions: int
    days: int
    timezone: str
    now: datetime
    seed: float
    rules: PointsRules

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=self.days - 1)


def _q(value: str) -> str:
    """A SQL string literal (the values quoted here are our own: zone names, dates)."""
    return "'" + value.replace("'", "''") + "'"


def _ts(moment: datetime) -> str:
    return f"{_q(moment.isoformat())}::timestamptz"


def _local_midnight(day: date | str, tz: str) -> str:
    return f"({_q(str(day))}::timestamp AT TIME ZONE {_q(tz)})"


def _case(column: str, mapping: dict[str, Any], default: str = "NULL") -> str:
    arms = " ".join(f"WHEN {_q(k)} THEN {v}" for k, v in mapping.items())
    return f"CASE {column} {arms} ELSE {default} END"


def _level_case(column: str, rules: PointsRules, *, field: str) -> str:
    arms = " ".join(
        f"WHEN {column} >= {lvl.points_required} THEN {getattr(lvl, field)}"
        for lvl in reversed(rules.levels)
    )
    return f"(CASE {arms} END)"


class Seeder:
    def __init__(self, conn: AsyncConnection, plan: SeedPlan, bar: tqdm[Any]) -> None:
        self.conn = conn
        self.plan = plan
        self.bar = bar

    async def sql(self, statement: str) -> Any:
        result = await self.conn.exec_driver_sql(statement)
        return result

    async def scalar(self, statement: str) -> Any:
        return (await self.conn.exec_driver_sql(statement)).scalar()

    async def step(self, label: str, *statements: str) -> None:
        self.bar.set_description(label)
        for statement in statements:
            await self.sql(statement)
        self.bar.update(1)

    # ------------------------------------------------------------------ plan of the data

    async def users(self) -> None:
        p, tz = self.plan, self.plan.timezone
        start = _local_midnight(p.first_day, tz)
        now = _ts(p.now)
        sub_mult = p.rules.subscription_points_per_month
        await self.step(
            "users: arrival, activity, tiers, referrers",
            f"""
            CREATE TEMP TABLE su AS
            WITH base AS (
                SELECT g AS id,
                       {start} + (extract(epoch FROM {now} - {start}) - 300)
                           * sqrt((g - random()) / {p.users}) * interval '1 second' AS created_raw,
                       CASE WHEN random() < 0.00005 THEN 4000.0
                            ELSE least(1000.0, power(1.0 - random(), -1.0 / 1.25)) END AS w,
                       random() AS r_pay, random() AS r_tier, random() AS r_months,
                       random() AS r_sub, random() AS r_ref, random() AS r_pick
                FROM generate_series(1, {p.users}) g
            ), placed AS (
                -- Never in the last 10 s of a local day: the join-day claim stays on that day.
                SELECT b.*, least(b.created_raw,
                    ((b.created_raw AT TIME ZONE {_q(tz)})::date + 1)::timestamp
                        AT TIME ZONE {_q(tz)} - interval '10 seconds') AS created_at
                FROM base b
            )
            SELECT id, created_at, (created_at AT TIME ZONE {_q(tz)})::date AS created_day, w,
                   least(0.95, 0.015 + 0.025 * w) AS p_active,
                   0.3 + 0.6 * least(1.0, w / 40.0) AS q_claim,
                   CASE WHEN r_pay < least(0.5, 0.04 * sqrt(w)) THEN
                        CASE WHEN r_tier < 0.5 THEN 'BASIC' WHEN r_tier < 0.85 THEN 'PREMIUM'
                             ELSE 'VIP' END
                        ELSE 'FREE' END AS tier,
                   1 + floor(r_months * 3)::int AS months,
                   created_at + r_sub * ({now} - created_at - interval '60 seconds') AS sub_ts,
                   CASE WHEN id > 100 AND r_ref < 0.1
                        THEN 1 + floor((id - 1) * power(r_pick, 3))::bigint END AS referrer_id
            FROM placed
            """,
            "CREATE UNIQUE INDEX ON su (id)",
            "ANALYZE su",
        )
        await self.step(
            "events: subscriptions and referrals",
            f"""
            CREATE TEMP TABLE se AS
            SELECT id AS user_id, sub_ts AS ts, {_q(TransactionType.SUBSCRIPTION)}::text AS type,
                   ({_case("tier", {t.value: v for t, v in sub_mult.items()})} * months)::bigint
                       AS amount,
                   'subscription:pay_' || id AS key,
                   jsonb_build_object('tier', tier, 'months', months, 'payment_id', 'pay_' || id)
                       AS meta
            FROM su WHERE tier <> 'FREE'
            UNION ALL
            SELECT referrer_id, created_at + interval '1 second', {_q(TransactionType.REFERRAL_SIGNUP)},
                   {p.rules.referral_signup_points}, 'ref_signup:' || id,
                   jsonb_build_object('referred_id', id)
            FROM su WHERE referrer_id IS NOT NULL
            UNION ALL
            SELECT referrer_id, sub_ts + interval '1 second', {_q(TransactionType.REFERRAL_PURCHASE)},
                   {p.rules.referral_purchase_points}, 'ref_purchase:' || id,
                   jsonb_build_object('referred_id', id, 'payment_id', 'pay_' || id)
            FROM su WHERE referrer_id IS NOT NULL AND tier <> 'FREE'
            """,
            "CREATE INDEX ON se (user_id)",
            "ANALYZE se",
        )

    async def user_days(self) -> None:
        p = self.plan
        await self.step(
            "user-days: active days, daily claims, streaks",
            f"""
            CREATE TEMP TABLE ud0 AS
            WITH days AS (
                SELECT u.id AS user_id, u.created_day + g AS day, g = 0 AS first_day,
                       u.q_claim, u.w
                FROM su u, generate_series(0, {_q(str(p.today))}::date - u.created_day) g
                WHERE g = 0 OR random() < u.p_active
            )
            SELECT user_id, day, round(w * (0.25 + 1.5 * random()) * 1000)::bigint AS wd,
                   first_day OR random() < q_claim AS claim
            FROM days
            """,
            """
            CREATE TEMP TABLE ud1 AS
            SELECT user_id, day, wd, claim,
                   CASE WHEN claim THEN row_number() OVER (
                       PARTITION BY user_id, claim, day - rn ORDER BY day) END AS streak
            FROM (SELECT *, (row_number() OVER (PARTITION BY user_id, claim ORDER BY day))::int
                            AS rn
                  FROM ud0) s
            """,
            "DROP TABLE ud0",
        )
        claims = int(await self.scalar("SELECT count(*) FROM ud1 WHERE claim"))
        events = int(await self.scalar("SELECT count(*) FROM se"))
        weight = int(await self.scalar("SELECT sum(wd) FROM ud1"))
        slots = p.transactions - claims - events
        if slots < 0:
            raise SystemExit(
                f"{p.transactions:,} transactions are too few for {p.users:,} users: daily "
                f"logins and events alone take {claims + events:,}; raise --transactions"
            )
        # Slots per user-day in proportion to its weight, telescoped so they add up exactly.
        await self.step(
            "user-days: activity slots",
            f"""
            CREATE TEMP TABLE ud AS
            SELECT user_id, day, claim, streak,
                   (div({slots}::numeric * c, {weight}) - div({slots}::numeric * (c - wd), {weight}))
                       ::int AS k
            FROM (SELECT *, sum(wd) OVER (ORDER BY user_id, day ROWS UNBOUNDED PRECEDING) AS c
                  FROM ud1) s
            """,
            "DROP TABLE ud1",
            "CREATE INDEX ON ud (user_id)",
            "ANALYZE ud",
        )

    # ------------------------------------------------------------------ the ledger rows

    def chunk_sql(self, lo: int, hi: int) -> str:
        p, r, tz = self.plan, self.plan.rules, self.plan.timezone
        now = _ts(p.now)
        req_types = ", ".join(_q(a.value) for a in RequestAction)
        base = _case("type", {a.value: rule.base_points for a, rule in r.requests.items()})
        interval = _case(
            "type",
            {
                a.value: f"interval '{rule.min_interval_seconds} seconds'"
                for a, rule in r.requests.items()
            },
        )
        tier_mult = _case("u.tier", {t.value: m for t, m in r.tier_multipliers.items()}, "1.0")
        level_mult = _level_case("coalesce(nominal_before, 0)", r, field="earning_multiplier")
        bonus = " ".join(f"WHEN {d} THEN {b}" for d, b in sorted(r.streak_bonuses.items()))
        slot_arms, upper = [], 0.0
        for name, share in SLOT_MIX[:-1]:
            upper += share
            slot_arms.append(f"WHEN x < {upper} THEN {_q(name)}")
        slot_type = f"CASE {' '.join(slot_arms)} ELSE {_q(SLOT_MIX[-1][0])} END"
        prices = ", ".join(str(v) for v in SPEND_PRICES)
        prefix = _case(
            "type",
            {
                **{a.value: _q(f"{REQUEST_PREFIX[a]}:") for a in RequestAction},
                TransactionType.SPEND.value: _q(f"{TransactionType.SPEND.value}:"),
            },
            "type || ':seed-'",
        )
        return f"""
        INSERT INTO st (user_id, ts, tb, type, amount, balance_before, balance_after, key, meta)
        WITH days AS (
            SELECT d.user_id, d.day, d.claim, d.streak, d.k, u.created_at, u.created_day,
                   greatest(d.day::timestamp AT TIME ZONE {_q(tz)},
                            u.created_at + interval '2 seconds') AS lo,
                   least((d.day + 1)::timestamp AT TIME ZONE {_q(tz)}, {now}) AS hi
            FROM ud d JOIN su u ON u.id = d.user_id
            WHERE d.user_id BETWEEN {lo} AND {hi}
        ), raw AS (
            SELECT user_id, day, {_q(TransactionType.DAILY_LOGIN)}::text AS type, streak,
                   CASE WHEN day = created_day THEN created_at + interval '1 second'
                        ELSE lo + random() * (hi - lo) * 0.5 END AS ts,
                   random() AS tb, random() AS x2,
                   NULL::bigint AS ev_amount, NULL::text AS ev_key, NULL::jsonb AS ev_meta
            FROM days WHERE claim
            UNION ALL
            SELECT user_id, day, {slot_type}, NULL, lo + random() * (hi - lo),
                   random(), random(), NULL, NULL, NULL
            FROM (SELECT d.user_id, d.day, d.lo, d.hi, random() AS x
                  FROM days d, generate_series(1, d.k)) s
            UNION ALL
            SELECT user_id, NULL, type, NULL, ts, random(), random(), amount, key, meta
            FROM se WHERE user_id BETWEEN {lo} AND {hi}
        ), t1 AS (
            SELECT raw.*, raw.type IN ({req_types}) AS is_req,
                   raw.type IN ({_q(TransactionType.SPEND)}, {_q(TransactionType.ADMIN_DEDUCT)}) AS is_debit,
                   CASE WHEN u.tier <> 'FREE' AND raw.ts >= u.sub_ts
                             AND raw.ts < u.sub_ts + u.months * interval '30 days'
                        THEN {tier_mult} ELSE 1.0 END AS tm,
                   {base} AS base,
                   (CASE WHEN raw.type = {_q(TransactionType.DAILY_LOGIN)}
                             THEN {r.daily_login_points} + (CASE raw.streak {bonus} ELSE 0 END)
                         WHEN raw.type = {_q(TransactionType.ADMIN_GRANT)} THEN 100 * (1 + floor(raw.x2 * 50)::int)
                         ELSE raw.ev_amount END)::bigint AS fixed_credit
            FROM raw JOIN su u ON u.id = raw.user_id
        ), t2 AS (
            SELECT t1.*,
                   sum(coalesce(fixed_credit, base * tm, 0)) OVER (
                       PARTITION BY user_id ORDER BY ts, tb
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS nominal_before,
                   ts - lag(ts) OVER (PARTITION BY user_id, type ORDER BY ts, tb) AS gap
            FROM t1
        ), t3 AS (
            SELECT t2.*,
                   CASE WHEN is_req THEN round(base * {level_mult} * tm)::bigint END AS full_pts,
                   is_req AND gap IS NOT NULL AND gap < {interval} AS limited
            FROM t2
        ), t4 AS (
            SELECT t3.*, CASE WHEN is_req AND NOT limited THEN full_pts ELSE 0 END AS ef
            FROM t3
        ), t5 AS (
            SELECT t4.*,
                   sum(ef) OVER (PARTITION BY user_id, day ORDER BY ts, tb
                                 ROWS UNBOUNDED PRECEDING) AS run_req
            FROM t4
        ), t6 AS (
            SELECT t5.*,
                   least(run_req, {r.max_daily_points_earning})
                       - least(run_req - ef, {r.max_daily_points_earning}) AS paid
            FROM t5
        ), t7 AS (
            SELECT t6.*,
                   CASE WHEN is_req THEN paid WHEN is_debit THEN 0
                        ELSE coalesce(fixed_credit, 0) END AS credit,
                   sum(is_debit::int) OVER (PARTITION BY user_id ORDER BY ts, tb
                                            ROWS UNBOUNDED PRECEDING) - is_debit::int AS seg,
                   CASE type WHEN {_q(TransactionType.SPEND)} THEN (ARRAY[{prices}])[1 + floor(x2 * 4)::int]
                             WHEN {_q(TransactionType.ADMIN_DEDUCT)} THEN 50 * (1 + floor(x2 * 40)::int) END AS want
            FROM t6
        ), t8 AS (
            SELECT t7.*, sum(credit) OVER (PARTITION BY user_id, seg) AS budget FROM t7
        ), t9 AS (
            SELECT t8.*,
                   CASE WHEN NOT is_debit THEN credit
                        WHEN type = {_q(TransactionType.SPEND)} THEN CASE WHEN want <= budget THEN -want ELSE 0 END
                        WHEN budget > 0 THEN -least(want, budget)
                        ELSE 0 END AS amount,
                   CASE WHEN limited THEN 'rate_limited'
                        WHEN is_req AND paid = 0 THEN 'capped'
                        WHEN is_req AND paid < full_pts THEN 'partially_capped'
                        WHEN is_debit AND (CASE WHEN type = {_q(TransactionType.SPEND)} THEN want > budget
                                                ELSE budget <= 0 END) THEN 'insufficient_funds'
                        END AS outcome
            FROM t8
        ), t10 AS (
            SELECT t9.*,
                   sum(amount) OVER (PARTITION BY user_id ORDER BY ts, tb
                                     ROWS UNBOUNDED PRECEDING) AS after,
                   row_number() OVER (PARTITION BY user_id ORDER BY ts, tb) AS n
            FROM t9
        )
        SELECT user_id, ts, tb, type, amount, after - amount, after,
               CASE WHEN type = {_q(TransactionType.DAILY_LOGIN)}
                        THEN 'daily:' || user_id || ':' || to_char(day, 'YYYY-MM-DD')
                    WHEN ev_key IS NOT NULL THEN ev_key
                    ELSE {prefix} || user_id || ':' || n END,
               CASE WHEN type = {_q(TransactionType.DAILY_LOGIN)}
                        THEN jsonb_build_object('streak', streak,
                                                'bonus', fixed_credit - {r.daily_login_points},
                                                'date', day)
                    WHEN ev_meta IS NOT NULL THEN ev_meta
                    WHEN is_req THEN CASE WHEN outcome IS NULL THEN '{{}}'::jsonb
                                          ELSE jsonb_build_object('outcome', outcome) END
                    ELSE jsonb_strip_nulls(jsonb_build_object(
                        'admin_id', CASE WHEN type IN ({_q(TransactionType.ADMIN_GRANT)}, {_q(TransactionType.ADMIN_DEDUCT)}) THEN 1 END,
                        'description', CASE WHEN type = {_q(TransactionType.SPEND)} THEN 'bonus request'
                                            ELSE 'seeded' END,
                        'outcome', outcome,
                        'requested', CASE WHEN outcome IS NOT NULL THEN -want END))
               END
        FROM t10
        """

    async def ledger_rows(self) -> None:
        await self.sql(
            """
            CREATE TEMP TABLE st (
                user_id bigint, ts timestamptz, tb float8, type text, amount bigint,
                balance_before bigint, balance_after bigint, key text, meta jsonb)
            """
        )
        p = self.plan
        for lo in range(1, p.users + 1, USERS_PER_CHUNK):
            hi = min(lo + USERS_PER_CHUNK - 1, p.users)
            await self.step(f"ledger rows: users {lo:,}-{hi:,}", self.chunk_sql(lo, hi))
        await self.step(
            "ledger rows: ordering by time", "CREATE INDEX ON st (ts, tb)", "ANALYZE st"
        )

    # ------------------------------------------------------------------ into the schema

    async def users_and_balances(self) -> None:
        p, r, tz = self.plan, self.plan.rules, self.plan.timezone
        req = ", ".join(_q(a.value) for a in RequestAction)
        today_start = _local_midnight(p.today, tz)
        last_earn = ", ".join(
            f"{_q(a.value)}, max(ts) FILTER (WHERE type = {_q(a.value)} AND amount > 0)"
            for a in RequestAction
        )
        await self.step(
            "balances: totals per user",
            f"""
            CREATE TEMP TABLE agg AS
            SELECT user_id, sum(amount) AS balance,
                   coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS earned,
                   coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS spent,
                   max(ts) AS last_ts,
                   max(ts) FILTER (WHERE amount <> 0) AS last_move_ts,
                   jsonb_strip_nulls(jsonb_build_object({last_earn})) AS last_earn_at,
                   coalesce(sum(amount) FILTER (
                       WHERE type IN ({req}) AND amount > 0 AND ts >= {today_start}), 0)
                       AS earned_today
            FROM st GROUP BY user_id
            """,
            """
            CREATE TEMP TABLE ustreak AS
            SELECT DISTINCT ON (user_id) user_id, day AS last_claim, streak AS current_streak,
                   max(streak) OVER (PARTITION BY user_id) AS longest
            FROM ud WHERE claim ORDER BY user_id, day DESC
            """,
        )
        await self.step(
            "users: insert",
            """
            INSERT INTO users (telegram_id, username, first_name, language, tier, tier_expires_at,
                               referrer_id, referral_code, is_admin, created_at, last_seen_at)
            SELECT u.id, CASE WHEN u.id % 3 <> 0 THEN 'user' || u.id END, 'User ' || u.id,
                   CASE WHEN u.id % 5 < 2 THEN 'ru' ELSE 'en' END, u.tier,
                   CASE WHEN u.tier <> 'FREE' THEN u.sub_ts + u.months * interval '30 days' END,
                   u.referrer_id, 'seed' || u.id, false, u.created_at,
                   coalesce(a.last_ts, u.created_at)
            FROM su u LEFT JOIN agg a ON a.user_id = u.id
            ORDER BY u.id
            """,
        )
        level = _level_case("coalesce(a.earned, 0)", r, field="level")
        mult = _level_case("coalesce(a.earned, 0)", r, field="earning_multiplier")
        await self.step(
            "balances: insert",
            f"""
            INSERT INTO points_balances (
                user_id, balance, lifetime_earned, lifetime_spent, level, earning_multiplier,
                current_streak, longest_streak, last_daily_login, last_earn_at, earned_today,
                earned_today_date, updated_at)
            SELECT u.id, coalesce(a.balance, 0), coalesce(a.earned, 0), coalesce(a.spent, 0),
                   {level}, {mult}, coalesce(s.current_streak, 0), coalesce(s.longest, 0),
                   s.last_claim, coalesce(a.last_earn_at, '{{}}'::jsonb),
                   coalesce(a.earned_today, 0),
                   CASE WHEN a.earned_today > 0 THEN {_q(str(p.today))}::date END,
                   coalesce(a.last_move_ts, u.created_at)
            FROM su u LEFT JOIN agg a ON a.user_id = u.id
                      LEFT JOIN ustreak s ON s.user_id = u.id
            ORDER BY u.id
            """,
        )

    async def secondary_definitions(self) -> tuple[list[tuple[str, str]], list[str]]:
        """The ledger's unique/foreign-key constraints and plain indexes, as DDL to rebuild."""
        constraints = (
            await self.sql(
                """
                SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                WHERE conrelid = 'points_transactions'::regclass AND contype IN ('u', 'f')
                ORDER BY contype DESC, conname
                """
            )
        ).all()
        indexes = (
            await self.sql(
                """
                SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
                WHERE i.indrelid = 'points_transactions'::regclass AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                ORDER BY i.indexrelid::regclass::text
                """
            )
        ).all()
        return [(str(n), str(d)) for n, d in constraints], [str(d) for (d,) in indexes]

    async def ledger(self, constraints: list[tuple[str, str]], indexes: list[str]) -> None:
        drops = [f"ALTER TABLE points_transactions DROP CONSTRAINT {n}" for n, _ in constraints]
        drops += [
            f"DROP INDEX {d.split(' ON ')[0].split()[-1]}" for d in indexes
        ]  # "CREATE [UNIQUE] INDEX name ON ..."
        await self.step("ledger: secondary indexes and keys set aside", *drops)
        p, tz = self.plan, self.plan.timezone
        day = p.first_day
        while day <= p.today:
            lower = "'-infinity'::timestamptz" if day == p.first_day else _local_midnight(day, tz)
            upper = (
                "'infinity'::timestamptz"
                if day == p.today
                else _local_midnight(day + timedelta(days=1), tz)
            )
            await self.step(
                f"ledger: {day}",
                f"""
                INSERT INTO points_transactions (
                    user_id, transaction_type, amount, balance_before, balance_after,
                    transaction_id, metadata_json, created_at)
                SELECT user_id, type, amount, balance_before, balance_after, key, meta, ts
                FROM st WHERE ts >= {lower} AND ts < {upper}
                ORDER BY ts, tb
                """,
            )
            day += timedelta(days=1)
        for definition in indexes:
            await self.step(f"ledger: {definition.split(' ON ')[0].split()[-1]}", definition)
        for name, definition in constraints:
            await self.step(
                f"ledger: {name}",
                f"ALTER TABLE points_transactions ADD CONSTRAINT {name} {definition}",
            )


def _steps(plan: SeedPlan, rebuilt: int) -> int:
    chunks = -(-plan.users // USERS_PER_CHUNK)
    return 2 + 2 + chunks + 1 + 3 + 1 + plan.days + rebuilt + 1


async def seed(db_url: str, plan: SeedPlan) -> dict[str, Any]:
    engine = create_async_engine(db_url, isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    try:
        async with engine.connect() as conn:
            for setting in (
                "SET temp_buffers = '1GB'",  # before the first temporary table
                "SET work_mem = '256MB'",
                "SET maintenance_work_mem = '1GB'",
                "SET synchronous_commit = off",
                "SET jit = off",
                f"SELECT setseed({plan.seed})",
            ):
                await conn.exec_driver_sql(setting)
            bar: tqdm[Any] = tqdm(total=1, unit="step", dynamic_ncols=True)
            try:
                seeder = Seeder(conn, plan, bar)
                constraints, indexes = await seeder.secondary_definitions()
                bar.total = _steps(plan, len(constraints) + len(indexes))
                bar.refresh()
                await seeder.users()
                await seeder.user_days()
                await seeder.ledger_rows()
                await seeder.users_and_balances()
                await seeder.ledger(constraints, indexes)
                await seeder.step(
                    "VACUUM (ANALYZE)",
                    "VACUUM (ANALYZE) users",
                    "VACUUM (ANALYZE) points_balances",
                    "VACUUM (ANALYZE) points_transactions",
                    "CHECKPOINT",
                )
            finally:
                bar.close()
            return await summary(conn, time.perf_counter() - started)
    finally:
        await engine.dispose()


async def summary(conn: AsyncConnection, seconds: float) -> dict[str, Any]:
    async def one(sql: str) -> Any:
        return (await conn.exec_driver_sql(sql)).scalar()

    mix = (
        await conn.exec_driver_sql(
            """
            SELECT transaction_type, count(*), count(*) FILTER (WHERE amount = 0)
            FROM points_transactions GROUP BY 1 ORDER BY 2 DESC
            """
        )
    ).all()
    per_user = (
        await conn.exec_driver_sql(
            """
            SELECT percentile_disc(ARRAY[0.5, 0.9, 0.99, 0.999]) WITHIN GROUP (ORDER BY n), max(n)
            FROM (SELECT count(*) AS n FROM points_transactions GROUP BY user_id) s
            """
        )
    ).one()
    return {
        "seconds": round(seconds, 1),
        "users": await one("SELECT count(*) FROM users"),
        "transactions": await one("SELECT count(*) FROM points_transactions"),
        "refusals": await one("SELECT count(*) FROM points_transactions WHERE amount = 0"),
        "mix": [(str(t), int(c), int(z)) for t, c, z in mix],
        "rows_per_user_p50_p90_p99_p999": list(per_user[0]),
        "rows_per_user_max": per_user[1],
        "levels": (
            await conn.exec_driver_sql(
                "SELECT level, count(*) FROM points_balances GROUP BY 1 ORDER BY 1"
            )
        ).all(),
        "size": await one("SELECT pg_size_pretty(pg_database_size(current_database()))"),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.seed_data",
        description="Fill a benchmark database with a ledger of realistic shape.",
    )
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument(
        "--timezone", help="local days for claims and the cap (default: the TIMEZONE setting)"
    )
    parser.add_argument("--seed", type=float, default=0.42, help="random seed, -1..1")
    parser.add_argument(
        "--database-url",
        help=f"default: ${BENCH_URL_ENV}, else the embedded server's {ANALYTICS_DATABASE} "
        "(its contents are replaced)",
    )
    parser.add_argument("--audit", action="store_true", help="run the ledger audit afterwards")
    args = parser.parse_args(argv)
    if args.users < 1 or args.days < 1 or args.transactions < args.users:
        parser.error("need --users >= 1, --days >= 1 and --transactions >= --users")
    if not -1 <= args.seed <= 1:
        parser.error("--seed must be between -1 and 1")
    return args


def plan_from(args: argparse.Namespace) -> SeedPlan:
    settings = get_settings()
    timezone = args.timezone or settings.timezone
    ZoneInfo(timezone)  # refuse an unknown zone before anything is written
    return SeedPlan(
        users=args.users,
        transactions=args.transactions,
        days=args.days,
        timezone=timezone,
        now=datetime.now(UTC).replace(microsecond=0),
        seed=args.seed,
        rules=load_points_rules(settings.points_config_file),
    )


def run_seed(db: BenchDatabase, plan: SeedPlan) -> dict[str, Any]:
    from bench.bench_db import reset_schema

    print(
        f"seeding {db.where}: {plan.users:,} users, {plan.transactions:,} transactions over "
        f"{plan.days} days ({plan.timezone}); the schema is reset first",
        file=sys.stderr,
        flush=True,
    )
    reset_schema(db)
    return asyncio.run(seed(db.url, plan))


def _audit(url: str, rules: PointsRules, timezone: str) -> str:
    from src.database.engine import create_engine
    from src.services.ledger_audit import audit_ledger

    async def run() -> str:
        engine = create_engine(url, pool_size=1)
        try:
            return (await audit_ledger(engine, rules, timezone)).summary()
        finally:
            await engine.dispose()

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = plan_from(args)
    db = resolve_analytics_database(args.database_url)
    result = run_seed(db, plan)
    print(
        f"seeded in {result['seconds']:,.0f} s: {result['users']:,} users, "
        f"{result['transactions']:,} transactions ({result['refusals']:,} recorded refusals), "
        f"database size {result['size']}"
    )
    print(
        "rows per user p50/p90/p99/p99.9:",
        result["rows_per_user_p50_p90_p99_p999"],
        "max:",
        result["rows_per_user_max"],
    )
    print("levels:", ", ".join(f"{lv}: {n:,}" for lv, n in result["levels"]))
    for kind, count, zero in result["mix"]:
        share = count / max(result["transactions"], 1)
        print(f"  {kind:<24} {count:>12,} {share:7.2%}  (refusals {zero:,})")
    if args.audit:
        started = time.perf_counter()
        print(
            f"audit: {_audit(db.url, plan.rules, plan.timezone)} "
            f"({time.perf_counter() - started:,.0f} s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
