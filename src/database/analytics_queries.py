"""Read and rollup queries behind the admin analytics. Plain data in, plain data out.

Ledger figures come from two parts that never overlap: `points_daily_totals`, which holds
exactly the non-zero rows created before a watermark instant (`rolled_until`, one to two
minutes ago once advanced), and a live aggregate over the rows created since, served by the
BRIN index on created_at (the ledger is append-only, so its physical order follows time). The
rollup state and both parts are read in one REPEATABLE READ snapshot, so a concurrent
materialisation can neither double-count nor drop rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# pg_advisory_xact_lock key of the materialisation: one materialiser at a time, cluster-wide.
ROLLUP_LOCK_KEY = 0x53594E5452410001  # "SYNTRA" 0001

# The first instant of a local day, computed by PostgreSQL exactly as it groups rows
# ((created_at AT TIME ZONE tz)::date), so a boundary and a grouping always agree.
_DAY_START = "(CAST(:{name} AS date)::timestamp AT TIME ZONE :tz)"


@dataclass(frozen=True, slots=True)
class RollupState:
    timezone: str
    rolled_through: date | None  # the last local day fully in the totals
    rolled_until: datetime | None  # the totals hold exactly the rows created before this


@dataclass(frozen=True, slots=True)
class Totals:
    key: str | date  # a transaction type or a day, as grouped
    transaction_type: str
    count: int
    credits: int
    debits: int  # positive: points taken


async def tune_for_analytics(conn: AsyncConnection) -> None:
    """For this transaction only: no JIT (compiling costs more than it saves on these short
    aggregates) and enough work_mem to sort and hash a day of rows in memory."""
    await conn.execute(
        text("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")
    )


# ------------------------------------------------------------------ rollup state


async def read_state(conn: AsyncConnection) -> RollupState | None:
    row = (
        await conn.execute(
            text(
                "SELECT timezone, rolled_through, rolled_until FROM points_rollup_state "
                "WHERE id = 1"
            )
        )
    ).first()
    return RollupState(str(row[0]), row[1], row[2]) if row else None


async def lock_rollups(conn: AsyncConnection) -> None:
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROLLUP_LOCK_KEY})


async def clear_rollups(conn: AsyncConnection) -> None:
    await conn.execute(text("DELETE FROM points_daily_totals"))


async def save_state(conn: AsyncConnection, timezone: str, until: datetime | None) -> None:
    await conn.execute(
        text(
            """
            INSERT INTO points_rollup_state AS s (id, timezone, rolled_until, rolled_through)
            VALUES (1, CAST(:tz AS text), :until,
                    (CAST(:until AS timestamptz) AT TIME ZONE CAST(:tz AS text))::date - 1)
            ON CONFLICT (id) DO UPDATE SET timezone = excluded.timezone,
                rolled_until = excluded.rolled_until, rolled_through = excluded.rolled_through
            """
        ),
        {"tz": timezone, "until": until},
    )


async def database_now(conn: AsyncConnection) -> datetime:
    """The database server's clock, the one that stamps ledger rows (clock_timestamp())."""
    moment = await conn.scalar(text("SELECT clock_timestamp()"))
    assert isinstance(moment, datetime)
    return moment


async def writers_started_before(conn: AsyncConnection, moment: datetime) -> bool:
    """Whether a transaction of this database that started before `moment` still runs with
    an xid: it could yet commit a ledger row stamped before that instant.

    A ledger write takes its xid with the balance row lock and reads clock_timestamp() after
    it, so a transaction without an xid now stamps its rows after now. Sessions of other
    roles show no xact_start without pg_read_all_stats; the application uses one role."""
    found = await conn.scalar(
        text(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                  AND backend_xid IS NOT NULL AND xact_start < :moment)
            """
        ),
        {"moment": moment},
    )
    return bool(found)


async def materialise(
    conn: AsyncConnection, timezone: str, after: datetime | None, until: datetime
) -> None:
    """Add the rows created in [after, until) to the per-day, per-type totals.

    Adding (not replacing) is what lets the totals of the current day grow from one
    watermark to the next. It is exact because ranges never overlap: one materialiser at a
    time holds the advisory lock and advances the state in the same transaction."""
    lower = "AND created_at >= :after" if after else ""
    await conn.execute(
        text(
            f"""
            INSERT INTO points_daily_totals AS t (day, transaction_type, tx_count, credits, debits)
            SELECT (created_at AT TIME ZONE :tz)::date, transaction_type, count(*),
                   coalesce(sum(amount) FILTER (WHERE amount > 0), 0),
                   coalesce(-sum(amount) FILTER (WHERE amount < 0), 0)
            FROM points_transactions
            WHERE amount <> 0 {lower} AND created_at < :until
            GROUP BY 1, 2
            ON CONFLICT (day, transaction_type) DO UPDATE SET
                tx_count = t.tx_count + excluded.tx_count,
                credits = t.credits + excluded.credits,
                debits = t.debits + excluded.debits
            """
        ),
        {"tz": timezone, "until": until, **({"after": after} if after else {})},
    )


# ------------------------------------------------------------------ ledger figures


async def ledger_totals(
    conn: AsyncConnection, timezone: str, *, group_by: str, since: date | None = None
) -> list[Totals]:
    """Totals of non-zero ledger rows, grouped by "type" or by "day" (and type), optionally
    from local day `since` on. Call inside a REPEATABLE READ transaction (see module doc)."""
    if group_by not in {"type", "day"}:
        raise ValueError(f"group_by must be 'type' or 'day', not {group_by!r}")
    state = await read_state(conn)
    until = state.rolled_until if state and state.timezone == timezone else None
    rows: list[tuple[object, ...]] = []
    if until is not None:
        where = "WHERE day >= :since" if since else ""
        key = "transaction_type" if group_by == "type" else "day"
        result = await conn.execute(
            text(
                f"""
                SELECT {key}, transaction_type, sum(tx_count), sum(credits), sum(debits)
                FROM points_daily_totals {where} GROUP BY 1, 2
                """
            ),
            {"since": since} if since else {},
        )
        rows += [tuple(r) for r in result.all()]
    params: dict[str, object] = {"tz": timezone}
    bounds = []
    if until is not None:
        bounds.append("created_at >= :live_from")
        params["live_from"] = until
    if since is not None:
        bounds.append(f"created_at >= {_DAY_START.format(name='since')}")
        params["since"] = since
    live_key = "transaction_type" if group_by == "type" else "(created_at AT TIME ZONE :tz)::date"
    result = await conn.execute(
        text(
            f"""
            SELECT {live_key}, transaction_type, count(*),
                   coalesce(sum(amount) FILTER (WHERE amount > 0), 0),
                   coalesce(-sum(amount) FILTER (WHERE amount < 0), 0)
            FROM points_transactions
            WHERE amount <> 0 {"".join(" AND " + b for b in bounds)}
            GROUP BY 1, 2
            """
        ),
        params,
    )
    rows += [tuple(r) for r in result.all()]
    return [
        Totals(
            key=k if isinstance(k, date) else str(k),
            transaction_type=str(t),
            count=int(c),  # type: ignore[call-overload]
            credits=int(cr),  # type: ignore[call-overload]
            debits=int(db),  # type: ignore[call-overload]
        )
        for k, t, c, cr, db in rows
    ]


async def window_totals(conn: AsyncConnection, since: datetime) -> tuple[int, int, int]:
    """(earned, spent, movements) of the non-zero rows created at or after `since`: one
    pass over the window's rows (a lossy BRIN bitmap scan), in parallel workers."""
    row = (
        await conn.execute(
            text(
                """
                SELECT coalesce(sum(amount) FILTER (WHERE amount > 0), 0),
                       coalesce(-sum(amount) FILTER (WHERE amount < 0), 0),
                       count(*)
                FROM points_transactions
                WHERE created_at >= :since AND amount <> 0
                """
            ),
            {"since": since},
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def users_moved_since(conn: AsyncConnection, since: datetime) -> int:
    """Users with at least one points movement created at or after `since`.

    Counted on the balance rows, not as a distinct count over the window's ledger rows
    (which sorts every row: ~4x the cost at 400k rows a day, and growing with them). Exact
    because the one statement that writes a movement (points_post, migration 0002) sets
    `updated_at` to the movement's own created_at, and nothing else changes it after the
    row is created: a user's updated_at is the time of their latest movement, or of their
    registration if they never moved any points (hence the lifetime condition)."""
    return int(
        await conn.scalar(
            text(
                """
                SELECT count(*) FROM points_balances
                WHERE updated_at >= :since AND (lifetime_earned > 0 OR lifetime_spent > 0)
                """
            ),
            {"since": since},
        )
        or 0
    )


# ------------------------------------------------------------------ state figures


async def users_created_since(conn: AsyncConnection, since: datetime) -> int:
    return int(
        await conn.scalar(
            text("SELECT count(*) FROM users WHERE created_at >= :since"), {"since": since}
        )
        or 0
    )


async def count_users(conn: AsyncConnection) -> int:
    return int(await conn.scalar(text("SELECT count(*) FROM users")) or 0)


async def count_users_with_balance(conn: AsyncConnection) -> int:
    # The leaderboard index (balance DESC, user_id) answers this as an index-only range scan.
    return int(
        await conn.scalar(text("SELECT count(*) FROM points_balances WHERE balance > 0")) or 0
    )


async def level_counts(conn: AsyncConnection) -> list[tuple[int, int]]:
    result = await conn.execute(
        text("SELECT level, count(*) FROM points_balances GROUP BY level ORDER BY level")
    )
    return [(int(lv), int(n)) for lv, n in result.all()]


async def active_streaks(conn: AsyncConnection, yesterday: date) -> list[tuple[int, int]]:
    """(current streak, users) over users whose last daily claim is on `yesterday` or later.

    A scan of the balance rows, whose stored fields are the definition. (The claims' own
    ledger rows carry the same {"date", "streak"}, but with a realistic share of daily
    users the latest claim per user over the last days is more rows to sort than the
    balance table is to scan.)"""
    result = await conn.execute(
        text(
            """
            SELECT current_streak, count(*) FROM points_balances
            WHERE last_daily_login >= :yesterday AND current_streak > 0
            GROUP BY current_streak
            """
        ),
        {"yesterday": yesterday},
    )
    return [(int(s), int(n)) for s, n in result.all()]
