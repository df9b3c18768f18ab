"""Daily request quotas per tier: a counter per (user, day, action) and the slots taken.

`request_quotas` holds how many requests of an action a user was served on a local day (the
configured zone's); `request_quota_slots` remembers which update (its idempotency key) holds
a slot, so a redelivered update takes none and a failed request can give its slot back.

`quota_take` is the one path that counts: it locks the day's counter row first, so every take
of one user, day and action waits for the one before it and reads the committed count: many
concurrent takes can never pass the limit together. `quota_release` takes the same locks in
the same order (counter, then slot), so a take and a release never deadlock. Both read the
clock in the database unless the caller passes one (tests), like the ledger functions.

Rows older than a couple of days are purged by a background job (QuotaService.purge).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAKE = """
CREATE FUNCTION quota_take(
    p_user_id bigint, p_action text, p_key text, p_limit integer, p_tz text, p_now timestamptz,
    OUT granted boolean, OUT used_today integer, OUT quota_day date, OUT replay boolean
) LANGUAGE plpgsql AS $$
BEGIN
    quota_day := (coalesce(p_now, clock_timestamp()) AT TIME ZONE p_tz)::date;
    INSERT INTO request_quotas (user_id, day, action, used)
    VALUES (p_user_id, quota_day, p_action, 0)
    ON CONFLICT (user_id, day, action) DO NOTHING;
    -- Takes of this user, day and action queue here; the count read is the committed one.
    SELECT q.used INTO used_today FROM request_quotas q
    WHERE q.user_id = p_user_id AND q.day = quota_day AND q.action = p_action
    FOR UPDATE;
    PERFORM 1 FROM request_quota_slots s WHERE s.user_id = p_user_id AND s.key = p_key;
    IF FOUND THEN  -- a redelivered update: it holds its slot already
        granted := true;
        replay := true;
        RETURN;
    END IF;
    replay := false;
    IF p_limit IS NOT NULL AND used_today >= p_limit THEN
        granted := false;
        RETURN;
    END IF;
    INSERT INTO request_quota_slots (user_id, key, day, action)
    VALUES (p_user_id, p_key, quota_day, p_action)
    ON CONFLICT (user_id, key) DO NOTHING;
    IF NOT FOUND THEN  -- the same update taken at this moment on the other side of midnight
        granted := true;
        replay := true;
        RETURN;
    END IF;
    UPDATE request_quotas q SET used = q.used + 1
    WHERE q.user_id = p_user_id AND q.day = quota_day AND q.action = p_action
    RETURNING q.used INTO used_today;
    granted := true;
END
$$
"""

RELEASE = """
CREATE FUNCTION quota_release(p_user_id bigint, p_key text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_day    date;
    v_action text;
BEGIN
    SELECT s.day, s.action INTO v_day, v_action FROM request_quota_slots s
    WHERE s.user_id = p_user_id AND s.key = p_key;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    -- The counter first, then the slot: the order quota_take locks them in.
    PERFORM 1 FROM request_quotas q
    WHERE q.user_id = p_user_id AND q.day = v_day AND q.action = v_action
    FOR UPDATE;
    DELETE FROM request_quota_slots s WHERE s.user_id = p_user_id AND s.key = p_key;
    IF NOT FOUND THEN  -- released at the same moment by another call
        RETURN false;
    END IF;
    UPDATE request_quotas q SET used = greatest(q.used - 1, 0)
    WHERE q.user_id = p_user_id AND q.day = v_day AND q.action = v_action;
    RETURN true;
END
$$
"""

# The application role of the embedded server gets these through default privileges; this
# says it explicitly for databases where the role was made by hand.
GRANTS = """
DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'syntra_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON request_quotas, request_quota_slots TO syntra_app;
    GRANT EXECUTE ON FUNCTION quota_take(bigint, text, text, integer, text, timestamptz),
                              quota_release(bigint, text) TO syntra_app;
  END IF;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "request_quotas",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("used", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_request_quotas_used_not_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.telegram_id"],
            name=op.f("fk_request_quotas_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "day", "action", name=op.f("pk_request_quotas")),
    )
    op.create_index(op.f("ix_request_quotas_day"), "request_quotas", ["day"])
    op.create_table(
        "request_quota_slots",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column(
            "taken_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.telegram_id"],
            name=op.f("fk_request_quota_slots_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_request_quota_slots")),
    )
    op.create_index(op.f("ix_request_quota_slots_day"), "request_quota_slots", ["day"])
    op.execute(TAKE)
    op.execute(RELEASE)
    op.execute(GRANTS)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS quota_release(bigint, text)")
    op.execute("DROP FUNCTION IF EXISTS quota_take(bigint, text, text, integer, text, timestamptz)")
    op.drop_index(op.f("ix_request_quota_slots_day"), table_name="request_quota_slots")
    op.drop_table("request_quota_slots")
    op.drop_index(op.f("ix_request_quotas_day"), table_name="request_quotas")
    op.drop_table("request_quotas")
