"""Checks SPEC section 2's invariants (and the anti-abuse limits) over the whole ledger.

Used by the tests after concurrent runs, by the benchmark after its load, and available to
operators: `./manage.sh audit`. Each check is one SQL query returning offending rows; an empty
report means every invariant holds for every user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from config.points_config import PointsRules, RequestAction

CHECKS: dict[str, str] = {
    # 1. balance == sum(amount) == lifetime_earned - lifetime_spent; credits/debits add up.
    "balance_matches_ledger": """
        SELECT b.user_id, b.balance, b.lifetime_earned, b.lifetime_spent,
               coalesce(t.total, 0) AS ledger_sum
        FROM points_balances b
        LEFT JOIN (
            SELECT user_id, sum(amount) AS total,
                   sum(amount) FILTER (WHERE amount > 0) AS credits,
                   -sum(amount) FILTER (WHERE amount < 0) AS debits
            FROM points_transactions GROUP BY user_id
        ) t ON t.user_id = b.user_id
        WHERE b.balance <> coalesce(t.total, 0)
           OR b.balance <> b.lifetime_earned - b.lifetime_spent
           OR b.lifetime_earned <> coalesce(t.credits, 0)
           OR b.lifetime_spent <> coalesce(t.debits, 0)
        LIMIT 20
    """,
    # 2. In commit order each row's balance_before is the previous row's balance_after.
    "chain_unbroken": """
        SELECT user_id, id, balance_before, prev_after FROM (
            SELECT user_id, id, balance_before,
                   coalesce(lag(balance_after) OVER (PARTITION BY user_id ORDER BY id), 0)
                       AS prev_after
            FROM points_transactions
        ) s WHERE balance_before <> prev_after
        LIMIT 20
    """,
    # 3. Never below zero (also a CHECK constraint; verified anyway).
    "never_negative": """
        SELECT user_id, id, balance_after FROM points_transactions WHERE balance_after < 0
        UNION ALL
        SELECT user_id, NULL, balance FROM points_balances WHERE balance < 0
        LIMIT 20
    """,
    # 4. One row per (user, key) (also a UNIQUE constraint).
    "keys_unique": """
        SELECT user_id, transaction_id, count(*) FROM points_transactions
        GROUP BY user_id, transaction_id HAVING count(*) > 1
        LIMIT 20
    """,
    # Levels follow lifetime_earned.
    "level_matches_lifetime": """
        SELECT user_id, level, lifetime_earned FROM points_balances b
        WHERE level < (SELECT count(*) FROM unnest(CAST(:thresholds AS bigint[])) t
                       WHERE t <= b.lifetime_earned)
        LIMIT 20
    """,
    # The daily cap on request earnings, per user per local day.
    "daily_cap_respected": """
        SELECT user_id, (created_at AT TIME ZONE :tz)::date AS day, sum(amount) AS earned
        FROM points_transactions
        WHERE transaction_type = ANY(CAST(:types AS text[])) AND amount > 0
        GROUP BY 1, 2 HAVING sum(amount) > :cap
        LIMIT 20
    """,
    # No two paid earns of one action closer than its minimum interval.
    "intervals_respected": """
        SELECT s.user_id, s.transaction_type, s.gap FROM (
            SELECT user_id, transaction_type,
                   created_at - lag(created_at) OVER (
                       PARTITION BY user_id, transaction_type ORDER BY id) AS gap
            FROM points_transactions
            WHERE transaction_type = ANY(CAST(:types AS text[])) AND amount > 0
        ) s
        JOIN unnest(CAST(:types AS text[]), CAST(:intervals AS interval[])) AS r(type, min_gap)
          ON r.type = s.transaction_type
        WHERE s.gap < r.min_gap
        LIMIT 20
    """,
}


@dataclass
class AuditReport:
    users: int = 0
    transactions: int = 0
    violations: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if self.ok:
            return f"OK: all invariants hold ({self.users} users, {self.transactions} transactions)"
        parts = [f"{name}: {rows[:3]}" for name, rows in self.violations.items()]
        return "VIOLATED: " + "; ".join(parts)


async def audit_ledger(engine: AsyncEngine, rules: PointsRules, timezone: str) -> AuditReport:
    types = [action.value for action in RequestAction]
    intervals = [
        timedelta(seconds=rules.requests[action].min_interval_seconds) for action in RequestAction
    ]
    params: dict[str, dict[str, object]] = {
        "level_matches_lifetime": {"thresholds": [lvl.points_required for lvl in rules.levels]},
        "daily_cap_respected": {
            "tz": timezone,
            "cap": rules.max_daily_points_earning,
            "types": types,
        },
        "intervals_respected": {"types": types, "intervals": intervals},
    }
    report = AuditReport()
    async with engine.connect() as conn:
        report.users = int(await conn.scalar(text("SELECT count(*) FROM points_balances")) or 0)
        report.transactions = int(
            await conn.scalar(text("SELECT count(*) FROM points_transactions")) or 0
        )
        for name, sql in CHECKS.items():
            rows = (await conn.execute(text(sql), params.get(name, {}))).all()
            if rows:
                report.violations[name] = [tuple(r) for r in rows]
    return report


async def _main() -> int:
    from config.settings import get_settings
    from src.bootstrap import build_context

    context = build_context(get_settings(), statements=False)
    try:
        report = await audit_ledger(context.engine, context.rules, context.settings.timezone)
    finally:
        await context.close()
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    import asyncio

    from src.operator_errors import run_operator_command

    raise SystemExit(run_operator_command("audit", lambda: asyncio.run(_main())))
