"""The ledger's write path as plpgsql functions: one round trip per points movement.

Every movement runs as ONE statement: lock the user's `points_balances` row, decide the outcome
(with `clock_timestamp()` read after the lock, so intervals are measured in commit order),
append the ledger row with `ON CONFLICT (user_id, transaction_id) DO NOTHING` and update the
balance row. A key that is already in the ledger is a replay: the original row's outcome is
returned and nothing changes. The rules' numbers are parameters, passed by PointsService from
the configuration in force, so the database holds the mechanism and Python holds the policy.

Refusals that depend on state (rate limited, capped, insufficient funds) are written as
zero-amount rows carrying {"outcome": ...} in metadata_json: a replay of that key must return
the same refusal even if the state has changed since (SPEC 2, invariant 4).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESULT_TYPE = """
CREATE TYPE points_result AS (
    outcome       text,        -- awarded | partially_capped | debited | rate_limited | capped
                               -- | insufficient_funds | unknown_user | conflict | duplicate
    amount        bigint,      -- signed amount moved (0 for a refusal)
    balance_after bigint,
    level_before  integer,
    level_after   integer,
    streak        integer,
    duplicate     boolean,     -- true when the key was already in the ledger (a replay)
    ledger_id     bigint,
    created_at    timestamptz
)
"""

# Appends one ledger row for an already locked balance row and applies it. Returns outcome
# 'duplicate' (and changes nothing) when the key is already in the ledger.
POST = """
CREATE FUNCTION points_post(
    b points_balances, p_type text, p_key text, p_amount bigint, p_meta jsonb,
    p_now timestamptz, p_thresholds bigint[], p_level_mults numeric[], p_today date,
    p_paid_request boolean, p_streak integer
) RETURNS points_result LANGUAGE plpgsql AS $$
DECLARE
    v_after  bigint := b.balance + p_amount;
    v_earned bigint := b.lifetime_earned + greatest(p_amount, 0);
    v_spent  bigint := b.lifetime_spent + greatest(-p_amount, 0);
    v_level  integer := b.level;
    v_id     bigint;
    i        integer;
BEGIN
    INSERT INTO points_transactions AS t (
        user_id, transaction_type, amount, balance_before, balance_after,
        transaction_id, metadata_json, created_at)
    VALUES (b.user_id, p_type, p_amount, b.balance, v_after, p_key, p_meta, p_now)
    ON CONFLICT (user_id, transaction_id) DO NOTHING
    RETURNING t.id INTO v_id;
    IF v_id IS NULL THEN
        RETURN ROW('duplicate', 0, b.balance, b.level, b.level, b.current_streak, true,
                   NULL, NULL)::points_result;
    END IF;
    IF p_amount = 0 AND p_streak IS NULL THEN
        -- A refusal: recorded for replays, nothing moves.
        RETURN ROW(NULL, 0, b.balance, b.level, b.level, b.current_streak, false,
                   v_id, p_now)::points_result;
    END IF;
    -- Levels follow lifetime_earned and never go down.
    FOR i IN 1 .. coalesce(array_length(p_thresholds, 1), 0) LOOP
        IF v_earned >= p_thresholds[i] AND i > v_level THEN
            v_level := i;
        END IF;
    END LOOP;
    UPDATE points_balances SET
        balance = v_after,
        lifetime_earned = v_earned,
        lifetime_spent = v_spent,
        level = v_level,
        earning_multiplier = coalesce(p_level_mults[v_level], earning_multiplier),
        current_streak = coalesce(p_streak, current_streak),
        longest_streak = greatest(longest_streak, coalesce(p_streak, 0)),
        last_daily_login = CASE WHEN p_streak IS NULL THEN last_daily_login ELSE p_today END,
        last_earn_at = CASE WHEN p_paid_request
                            THEN last_earn_at || jsonb_build_object(p_type, p_now)
                            ELSE last_earn_at END,
        earned_today = CASE WHEN NOT p_paid_request THEN earned_today
                            WHEN earned_today_date = p_today THEN earned_today + p_amount
                            ELSE p_amount END,
        earned_today_date = CASE WHEN p_paid_request THEN p_today ELSE earned_today_date END,
        updated_at = p_now
    WHERE user_id = b.user_id;
    RETURN ROW(NULL, p_amount, v_after, b.level, v_level,
               coalesce(p_streak, b.current_streak), false, v_id, p_now)::points_result;
END
$$
"""

# The original outcome of a key already in the ledger, or 'conflict' if the caller now asks
# for a different type or amount under the same key.
REPLAY = """
CREATE FUNCTION points_replay(
    b points_balances, p_key text, p_type text, p_amount bigint
) RETURNS points_result LANGUAGE plpgsql STABLE AS $$
DECLARE
    t points_transactions;
    v_requested bigint;
BEGIN
    SELECT * INTO t FROM points_transactions
    WHERE user_id = b.user_id AND transaction_id = p_key;
    v_requested := coalesce((t.metadata_json ->> 'requested')::bigint, t.amount);
    IF t.transaction_type <> p_type OR (p_amount IS NOT NULL AND v_requested <> p_amount) THEN
        RETURN ROW('conflict', t.amount, t.balance_after, b.level, b.level, b.current_streak,
                   true, t.id, t.created_at)::points_result;
    END IF;
    RETURN ROW(coalesce(t.metadata_json ->> 'outcome',
                        CASE WHEN t.amount >= 0 THEN 'awarded' ELSE 'debited' END),
               t.amount, t.balance_after, b.level, b.level,
               coalesce((t.metadata_json ->> 'streak')::integer, b.current_streak),
               true, t.id, t.created_at)::points_result;
END
$$
"""

UNKNOWN_USER = "ROW('unknown_user', 0, 0, NULL, NULL, NULL, false, NULL, NULL)::points_result"

# A served request (text, vision, chart): base x level x tier multiplier, rounded half up,
# subject to the per-action minimum interval and the daily cap on request earnings.
EARN_REQUEST = f"""
CREATE FUNCTION points_earn_request(
    p_user_id bigint, p_type text, p_key text, p_base bigint, p_interval interval,
    p_daily_cap bigint, p_tier_names text[], p_tier_mults numeric[],
    p_thresholds bigint[], p_level_mults numeric[], p_tz text, p_metadata jsonb,
    p_now timestamptz
) RETURNS points_result LANGUAGE plpgsql AS $$
DECLARE
    b         points_balances;
    r         points_result;
    v_now     timestamptz;
    v_today   date;
    v_tier    text;
    v_expires timestamptz;
    v_mult    numeric;
    v_last    timestamptz;
    v_full    bigint;
    v_amount  bigint;
    v_outcome text;
    v_meta    jsonb := coalesce(p_metadata, '{{}}'::jsonb);
BEGIN
    SELECT * INTO b FROM points_balances WHERE user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN {UNKNOWN_USER};
    END IF;
    -- Read the clock only once the row is ours: intervals then follow commit order.
    v_now := coalesce(p_now, clock_timestamp());
    v_today := (v_now AT TIME ZONE p_tz)::date;
    SELECT u.tier, u.tier_expires_at INTO v_tier, v_expires
    FROM users u WHERE u.telegram_id = p_user_id;
    IF v_expires IS NULL OR v_expires <= v_now THEN
        v_tier := 'FREE';
    END IF;
    v_mult := coalesce(p_level_mults[b.level], p_level_mults[array_length(p_level_mults, 1)])
              * coalesce(p_tier_mults[array_position(p_tier_names, v_tier)], 1);
    v_last := (b.last_earn_at ->> p_type)::timestamptz;
    IF v_last IS NOT NULL AND v_now < v_last + p_interval THEN
        v_amount := 0;
        v_outcome := 'rate_limited';
    ELSE
        v_full := round(p_base * v_mult);
        v_amount := least(v_full, greatest(p_daily_cap - CASE WHEN b.earned_today_date = v_today
                                                          THEN b.earned_today ELSE 0 END, 0));
        v_outcome := CASE WHEN v_amount = 0 THEN 'capped'
                          WHEN v_amount < v_full THEN 'partially_capped'
                          ELSE 'awarded' END;
    END IF;
    IF v_outcome <> 'awarded' THEN
        v_meta := v_meta || jsonb_build_object('outcome', v_outcome);
    END IF;
    r := points_post(b, p_type, p_key, v_amount, v_meta, v_now, p_thresholds, p_level_mults,
                     v_today, v_amount > 0, NULL);
    IF r.outcome = 'duplicate' THEN
        RETURN points_replay(b, p_key, p_type, NULL);
    END IF;
    r.outcome := v_outcome;
    RETURN r;
END
$$
"""

# The daily login: once per day in the configured zone, streak +1 on consecutive days,
# milestone bonus on the day the streak reaches exactly a milestone. Outside the daily cap.
CLAIM_DAILY = f"""
CREATE FUNCTION points_claim_daily(
    p_user_id bigint, p_base bigint, p_bonus_days integer[], p_bonus_points bigint[],
    p_thresholds bigint[], p_level_mults numeric[], p_tz text, p_now timestamptz
) RETURNS points_result LANGUAGE plpgsql AS $$
DECLARE
    b        points_balances;
    r        points_result;
    v_now    timestamptz;
    v_today  date;
    v_key    text;
    v_streak integer;
    v_bonus  bigint;
BEGIN
    SELECT * INTO b FROM points_balances WHERE user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN {UNKNOWN_USER};
    END IF;
    v_now := coalesce(p_now, clock_timestamp());
    v_today := (v_now AT TIME ZONE p_tz)::date;
    v_key := 'daily:' || p_user_id || ':' || to_char(v_today, 'YYYY-MM-DD');
    v_streak := CASE WHEN b.last_daily_login = v_today - 1 THEN b.current_streak + 1 ELSE 1 END;
    v_bonus := coalesce(p_bonus_points[array_position(p_bonus_days, v_streak)], 0);
    r := points_post(b, 'earn_daily_login', v_key, p_base + v_bonus,
                     jsonb_build_object('streak', v_streak, 'bonus', v_bonus, 'date', v_today),
                     v_now, p_thresholds, p_level_mults, v_today, false, v_streak);
    IF r.outcome = 'duplicate' THEN
        RETURN points_replay(b, v_key, 'earn_daily_login', NULL);
    END IF;
    r.outcome := 'awarded';
    RETURN r;
END
$$
"""

# A movement of a fixed amount: referral and subscription bonuses, admin grants (> 0),
# admin deducts and spends (< 0). A debit below zero is refused, never clipped.
MOVE = f"""
CREATE FUNCTION points_move(
    p_user_id bigint, p_type text, p_key text, p_amount bigint, p_metadata jsonb,
    p_thresholds bigint[], p_level_mults numeric[], p_now timestamptz
) RETURNS points_result LANGUAGE plpgsql AS $$
DECLARE
    b         points_balances;
    r         points_result;
    v_now     timestamptz;
    v_outcome text;
    v_amount  bigint := p_amount;
    v_meta    jsonb := coalesce(p_metadata, '{{}}'::jsonb);
BEGIN
    SELECT * INTO b FROM points_balances WHERE user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN {UNKNOWN_USER};
    END IF;
    v_now := coalesce(p_now, clock_timestamp());
    IF p_amount < 0 AND b.balance + p_amount < 0 THEN
        v_amount := 0;
        v_outcome := 'insufficient_funds';
        v_meta := v_meta || jsonb_build_object('outcome', v_outcome, 'requested', p_amount);
    ELSE
        v_outcome := CASE WHEN p_amount > 0 THEN 'awarded' ELSE 'debited' END;
    END IF;
    r := points_post(b, p_type, p_key, v_amount, v_meta, v_now, p_thresholds, p_level_mults,
                     NULL, false, NULL);
    IF r.outcome = 'duplicate' THEN
        RETURN points_replay(b, p_key, p_type, p_amount);
    END IF;
    r.outcome := v_outcome;
    RETURN r;
END
$$
"""

FUNCTIONS = [
    "points_earn_request",
    "points_claim_daily",
    "points_move",
    "points_replay",
    "points_post",
]


def upgrade() -> None:
    for statement in (RESULT_TYPE, POST, REPLAY, EARN_REQUEST, CLAIM_DAILY, MOVE):
        op.execute(statement)


def downgrade() -> None:
    for name in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name} CASCADE")
    op.execute("DROP TYPE IF EXISTS points_result")
