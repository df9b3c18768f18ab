"""Group commit: many ledger movements in one call, each with its single function's semantics.

`points_batch` takes parallel arrays (one element per movement: kind, user, type, key,
amount, interval, metadata, clock) plus the rules shared by every item, and applies the items
one after another by calling the very functions of migration 0002 (`points_earn_request`,
`points_claim_daily`, `points_move`). So each item keeps everything a single call has: the
row lock, `clock_timestamp()` read after that lock, replays of a key already in the ledger
(also a key used earlier in the same batch), the daily cap, levels and streaks.

Items are taken in user-id order (then in the order they were sent): every batch locks the
balance rows it touches in the same global order, so concurrent batches cannot deadlock. The
whole batch is one statement and one transaction; if any item raises, nothing is written and
the caller sends the items again one by one (see src/services/earn_batcher.py).

Only arrays of built-in types go in and plain columns come out: no composite type to look up
on each new connection, no session state, so the call also works through a transaction-mode
connection pooler.

The same revision adds the rank markers (src/services/rank_service.py): every `spacing`-th
place of the leaderboard with the exact number of users ahead of it, kept in step from the
ledger rows after `through_id` by `points_rank_advance`; `points_rank` answers a user's exact
rank from the nearest marker, a count of the few users between it and the user, and the
ledger rows newer than the markers. Nothing is added to the earn path.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = """
CREATE FUNCTION points_batch(
    p_kinds text[], p_user_ids bigint[], p_types text[], p_keys text[], p_amounts bigint[],
    p_intervals interval[], p_metadata jsonb[], p_nows timestamptz[],
    p_daily_cap bigint, p_tier_names text[], p_tier_mults numeric[],
    p_thresholds bigint[], p_level_mults numeric[], p_tz text,
    p_bonus_days integer[], p_bonus_points bigint[]
) RETURNS TABLE (
    idx integer, outcome text, amount bigint, balance_after bigint, level_before integer,
    level_after integer, streak integer, duplicate boolean, ledger_id bigint,
    created_at timestamptz
) LANGUAGE plpgsql AS $$
DECLARE
    it record;
    r  points_result;
BEGIN
    IF cardinality(p_kinds) IS DISTINCT FROM cardinality(p_user_ids) THEN
        RAISE EXCEPTION 'points_batch: arrays of different lengths';
    END IF;
    FOR it IN
        SELECT t.kind, t.user_id, t.type, t.key, t.amount, t.step, t.meta, t.at, t.i
        FROM unnest(p_kinds, p_user_ids, p_types, p_keys, p_amounts, p_intervals, p_metadata,
                    p_nows) WITH ORDINALITY AS t(kind, user_id, type, key, amount, step, meta, at, i)
        ORDER BY t.user_id, t.i
    LOOP
        CASE it.kind
        WHEN 'earn' THEN
            r := points_earn_request(it.user_id, it.type, it.key, it.amount, it.step,
                                     p_daily_cap, p_tier_names, p_tier_mults, p_thresholds,
                                     p_level_mults, p_tz, it.meta, it.at);
        WHEN 'daily' THEN
            r := points_claim_daily(it.user_id, it.amount, p_bonus_days, p_bonus_points,
                                    p_thresholds, p_level_mults, p_tz, it.at);
        WHEN 'move' THEN
            r := points_move(it.user_id, it.type, it.key, it.amount, it.meta, p_thresholds,
                             p_level_mults, it.at);
        ELSE
            RAISE EXCEPTION 'points_batch: unknown item kind %', it.kind;
        END CASE;
        idx := it.i;
        outcome := r.outcome;
        amount := r.amount;
        balance_after := r.balance_after;
        level_before := r.level_before;
        level_after := r.level_after;
        streak := r.streak;
        duplicate := r.duplicate;
        ledger_id := r.ledger_id;
        created_at := r.created_at;
        RETURN NEXT;
    END LOOP;
END
$$
"""


# A user's exact rank (balance desc, user id asc), or NULL when the markers are missing or
# too far behind the ledger (the caller then counts). One snapshot for every part (STABLE).
RANK = """
CREATE FUNCTION points_rank(p_user_id bigint, p_balance bigint, p_max_tail bigint)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    s       points_rank_state;
    v_nb    bigint;
    v_uid   bigint;
    v_ahead bigint;
    v_live  bigint;
    v_fix   bigint;
BEGIN
    SELECT * INTO s FROM points_rank_state WHERE id = 1;
    IF NOT FOUND OR coalesce((SELECT max(id) FROM points_transactions), 0) - s.through_id
                    > p_max_tail THEN
        RETURN NULL;
    END IF;
    -- The nearest marker at or before the user's place.
    SELECT neg_balance, user_id, ahead INTO v_nb, v_uid, v_ahead FROM points_rank_markers
    WHERE (neg_balance, user_id) <= (-p_balance, p_user_id)
    ORDER BY neg_balance DESC, user_id DESC LIMIT 1;
    IF NOT FOUND THEN  -- above the first marker: the few users ahead, counted
        RETURN 1 + (SELECT count(*) FROM points_balances WHERE balance > p_balance)
                 + (SELECT count(*) FROM points_balances
                    WHERE balance = p_balance AND user_id < p_user_id);
    END IF;
    -- Users now between the marker's place (included) and the user's (excluded).
    IF -v_nb = p_balance THEN
        SELECT count(*) INTO v_live FROM points_balances
        WHERE balance = p_balance AND user_id >= v_uid AND user_id < p_user_id;
    ELSE
        v_live := (SELECT count(*) FROM points_balances WHERE balance = -v_nb AND user_id >= v_uid)
                + (SELECT count(*) FROM points_balances WHERE balance < -v_nb AND balance > p_balance)
                + (SELECT count(*) FROM points_balances
                   WHERE balance = p_balance AND user_id < p_user_id);
    END IF;
    -- Users who moved across the marker in the rows the markers have not folded in yet:
    -- from before their first such row to after their last (= their balance now).
    SELECT coalesce(sum((t.after > -v_nb OR (t.after = -v_nb AND t.user_id < v_uid))::int
                      - (t.before > -v_nb OR (t.before = -v_nb AND t.user_id < v_uid))::int), 0)
    INTO v_fix
    FROM (SELECT user_id, (min(ARRAY[id, balance_before]))[2] AS before,
                 (max(ARRAY[id, balance_after]))[2] AS after
          FROM points_transactions WHERE id > s.through_id AND amount <> 0
          GROUP BY user_id) t;
    RETURN v_ahead + v_fix + v_live + 1;
END
$$
"""

# Markers from scratch: the board as of ledger row `p_through` (the caller guarantees every
# row up to it is committed or rolled back), every `p_spacing`-th user with points marked.
RANK_REBUILD = """
CREATE FUNCTION points_rank_rebuild(p_through bigint, p_spacing integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_markers bigint;
BEGIN
    DELETE FROM points_rank_markers;
    WITH tail AS (  -- balances before the rows that came after p_through
        SELECT DISTINCT ON (user_id) user_id, balance_before
        FROM points_transactions WHERE id > p_through AND amount <> 0
        ORDER BY user_id, id
    ), placed AS (
        SELECT balance, user_id,
               row_number() OVER (ORDER BY balance DESC, user_id) - 1 AS ahead
        FROM (SELECT b.user_id, coalesce(t.balance_before, b.balance) AS balance
              FROM points_balances b LEFT JOIN tail t USING (user_id)) board
        WHERE balance > 0
    ), marked AS (
        INSERT INTO points_rank_markers (neg_balance, user_id, ahead)
        SELECT -balance, user_id, ahead FROM placed WHERE ahead % p_spacing = 0
    )
    INSERT INTO points_rank_state AS s
        (id, through_id, positive, spacing, rebuilt_at, advanced_at)
    SELECT 1, p_through, (SELECT count(*) FROM placed), p_spacing, now(), now()
    ON CONFLICT (id) DO UPDATE SET
        through_id = excluded.through_id, positive = excluded.positive,
        spacing = excluded.spacing, rebuilt_at = excluded.rebuilt_at,
        advanced_at = excluded.advanced_at;
    SELECT count(*) INTO v_markers FROM points_rank_markers;
    RETURN v_markers;
END
$$
"""

# Fold the ledger rows p_old < id <= p_new into the markers: a user who moved from place A to
# place B shifts the count of every marker between A and B by one. One sort of the moved
# users' old and new places merged with the markers' places; no scan of the board.
RANK_ADVANCE = """
CREATE FUNCTION points_rank_advance(p_old bigint, p_new bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM points_rank_state WHERE id = 1 AND through_id = p_old FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;  -- rebuilt or advanced by someone else meanwhile
    END IF;
    WITH moved AS (  -- each user's balance before the first and after the last row
        SELECT user_id, (min(ARRAY[id, balance_before]))[2] AS before,
               (max(ARRAY[id, balance_after]))[2] AS after
        FROM points_transactions
        WHERE id > p_old AND id <= p_new AND amount <> 0
        GROUP BY user_id
    ), places AS (  -- markers sort before a user at the same place: only "strictly ahead" counts
        SELECT -after AS nb, user_id AS uid, 1 AS o, 1 AS w FROM moved
        UNION ALL SELECT -before, user_id, 1, -1 FROM moved
        UNION ALL SELECT neg_balance, user_id, 0, 0 FROM points_rank_markers
    ), shifts AS (
        SELECT nb, uid, o, sum(w) OVER (ORDER BY nb, uid, o ROWS UNBOUNDED PRECEDING) AS n
        FROM places
    ), shifted AS (
        UPDATE points_rank_markers m SET ahead = m.ahead + s.n
        FROM shifts s WHERE s.o = 0 AND s.n <> 0 AND m.neg_balance = s.nb AND m.user_id = s.uid
    )
    UPDATE points_rank_state SET
        through_id = p_new,
        advanced_at = now(),
        positive = positive + (SELECT coalesce(sum((after > 0)::int - (before > 0)::int), 0)
                               FROM moved)
    WHERE id = 1;
    RETURN true;
END
$$
"""


def upgrade() -> None:
    op.execute(BATCH)
    op.create_table(
        "points_rank_markers",
        sa.Column("neg_balance", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("ahead", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("neg_balance", "user_id", name=op.f("pk_points_rank_markers")),
    )
    op.create_table(
        "points_rank_state",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("through_id", sa.BigInteger(), nullable=False),
        sa.Column("positive", sa.BigInteger(), nullable=False),
        sa.Column("spacing", sa.Integer(), nullable=False),
        sa.Column("rebuilt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("advanced_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_points_rank_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_rank_state")),
    )
    for statement in (RANK, RANK_REBUILD, RANK_ADVANCE):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS points_rank_advance(bigint, bigint)")
    op.execute("DROP FUNCTION IF EXISTS points_rank_rebuild(bigint, integer)")
    op.execute("DROP FUNCTION IF EXISTS points_rank(bigint, bigint, bigint)")
    op.drop_table("points_rank_state")
    op.drop_table("points_rank_markers")
    op.execute(
        "DROP FUNCTION IF EXISTS points_batch(text[], bigint[], text[], text[], bigint[], "
        "interval[], jsonb[], timestamptz[], bigint, text[], numeric[], bigint[], numeric[], "
        "text, integer[], bigint[])"
    )
