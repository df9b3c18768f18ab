"""Update marks: an update is claimed once, in PostgreSQL (default) and in Redis (REDIS_URL).

Claimed in progress until finished or until its lease is over (a worker killed mid-update),
then done for a day; concurrent claims of one update: exactly one wins. The Redis tests need
TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/9).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from src.services.failures import FailureCounter
from src.services.periodic_jobs import JobRunner
from src.services.update_dedupe import (
    Claim,
    PostgresUpdateMarks,
    RedisUpdateMarks,
    UpdateMarks,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture(params=["postgres", "redis"])
async def marks(
    request: pytest.FixtureRequest, engine: AsyncEngine, clean_db: None
) -> AsyncIterator[UpdateMarks]:
    if request.param == "postgres":
        yield PostgresUpdateMarks(engine)
        return
    if not REDIS_URL:
        pytest.skip("set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/9) to test Redis")
    store = RedisUpdateMarks.from_url(REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:8]}:")
    yield store
    await store.aclose()


async def test_claimed_once_then_done(marks: UpdateMarks) -> None:
    assert await marks.claim(1001, 60) is Claim.NEW
    assert await marks.claim(1001, 60) is Claim.BUSY  # in progress (here or elsewhere)
    await marks.finish(1001)
    assert await marks.claim(1001, 60) is Claim.DONE
    await marks.release(1001)  # never undoes "done"
    assert await marks.claim(1001, 60) is Claim.DONE
    assert await marks.claim(1002, 60) is Claim.NEW  # other updates are independent


async def test_a_lapsed_lease_lets_the_redelivery_run(marks: UpdateMarks) -> None:
    """A worker killed mid-update never finishes: once its lease is over, the update is free."""
    assert await marks.claim(2001, 1) is Claim.NEW
    assert await marks.claim(2001, 1) is Claim.BUSY
    await asyncio.sleep(1.3)
    assert await marks.claim(2001, 60) is Claim.NEW
    assert await marks.claim(2001, 60) is Claim.BUSY


async def test_release_frees_an_update_in_progress(marks: UpdateMarks) -> None:
    assert await marks.claim(3001, 60) is Claim.NEW
    await marks.release(3001)
    assert await marks.claim(3001, 60) is Claim.NEW


async def test_concurrent_claims_one_wins(marks: UpdateMarks) -> None:
    for update_id in range(4000, 4020):
        claims = await asyncio.gather(*(marks.claim(update_id, 60) for _ in range(8)))
        assert claims.count(Claim.NEW) == 1, claims
        assert set(claims) <= {Claim.NEW, Claim.BUSY}


async def test_the_purge_job_deletes_expired_marks_only(
    engine: AsyncEngine, clean_db: None
) -> None:
    marks = PostgresUpdateMarks(engine)
    jobs = JobRunner(engine, FailureCounter())
    jobs.add(marks.purge_job())
    await marks.claim(5001, 0.2)  # a lease about to lapse
    await marks.claim(5002, 60)
    await marks.finish(5002)  # done: kept a day
    await marks.claim(5003, 60)  # in progress
    await asyncio.sleep(0.4)
    assert await jobs.run_once("update-marks-purge")
    async with engine.connect() as conn:
        left = (await conn.execute(text("SELECT update_id FROM bot_update_marks"))).scalars()
        assert sorted(left) == [5002, 5003]
