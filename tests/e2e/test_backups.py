"""`./manage.sh db backup [FILE]` and `./manage.sh db restore FILE`, as an operator runs them.

The embedded server here is a private one (its own DATA_DIR), so dropping and restoring its
database harms nothing else. A ledger is built through the services, backed up, the database
dropped (the disaster), restored into a fresh one: the audit passes and every balance is what
it was. The same against a DATABASE_URL server when TEST_DATABASE_URL names one.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from config.points_config import DEFAULT_RULES
from src.bootstrap import migrate
from src.database import embedded
from src.database.engine import create_engine, create_session_factory, normalise_url
from src.services.ledger_audit import audit_ledger
from src.services.points_service import PointsService
from src.services.user_service import UserService
from tests.support.embedded import app_urls, private_server
from tests.support.processes import Result, bot_env, manage

pytestmark = pytest.mark.slow

Balances = list[tuple[Any, ...]]


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    with private_server() as path:
        yield path


async def build_ledger(url: str, first_user: int) -> None:
    """Users, a referral, daily bonuses, answers, grants, a deduction, a refused spend."""
    engine = create_engine(url, pool_size=2)
    sessions = create_session_factory(engine)
    users = UserService(session_factory=sessions)
    points = PointsService(engine=engine, session_factory=sessions, rules=DEFAULT_RULES)
    try:
        await points.sync_levels()
        ids = [first_user + n for n in range(5)]
        for uid in ids:
            await users.register(telegram_id=uid, first_name=f"U{uid}", language_code="ru")
            await points.claim_daily_login(user_id=uid)
            await points.award_request(user_id=uid, action="earn_text_request", key=f"t:{uid}")
        await points.award_referral_signup(referrer_id=ids[0], referred_id=ids[1])
        await points.admin_grant(user_id=ids[2], amount=5000, admin_id=1, description="promo")
        await points.admin_deduct(user_id=ids[2], amount=70, admin_id=1)
        await points.spend(user_id=ids[3], amount=10**6, key="too-dear")  # refused
    finally:
        await engine.dispose()


async def snapshot(url: str) -> tuple[Balances, int, str]:
    """Every balance row, the ledger's length, and the audit's verdict."""
    engine: AsyncEngine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT user_id, balance, lifetime_earned, lifetime_spent, level"
                        " FROM points_balances ORDER BY user_id"
                    )
                )
            ).all()
            count = int(await conn.scalar(text("SELECT count(*) FROM points_transactions")) or 0)
        report = await audit_ledger(engine, DEFAULT_RULES, "UTC")
        assert report.ok, report.summary()
        return [tuple(r) for r in rows], count, report.summary()
    finally:
        await engine.dispose()


def drop_database(data_dir: Path) -> None:
    server = embedded.ensure_running(data_dir)
    subprocess.run(
        [*server.psql_args("postgres"), "-qc", "DROP DATABASE syntra WITH (FORCE)"],
        check=True,
        capture_output=True,
    )


def pretend_the_bot_runs(run_dir: Path) -> Path:
    """A pidfile naming a live process (this one): to manage.sh, the bot runs."""
    run_dir.mkdir(parents=True, exist_ok=True)
    pidfile = run_dir / "bot.pid"
    pidfile.write_text(str(os.getpid()))
    return pidfile


def remove(path: Path) -> None:
    path.unlink()


def one_line(result: Result) -> str:
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result
    return lines[0]


@pytest.fixture
async def env(tmp_path: Path, data_dir: Path) -> AsyncIterator[dict[str, str]]:
    environment = bot_env(DATA_DIR=data_dir, DATABASE_URL=None, LOG_DIR=tmp_path / "logs")
    environment["RUN_DIR"] = str(tmp_path / "run")
    yield environment


async def test_backup_then_restore_into_a_fresh_database(
    tmp_path: Path, data_dir: Path, env: dict[str, str]
) -> None:
    urls = app_urls(data_dir)
    await asyncio.to_thread(migrate, urls.owner)
    await build_ledger(urls.app, 810_001)
    before = await snapshot(urls.app)
    assert before[1] >= 12 and len(before[0]) == 5

    file = tmp_path / "nightly.dump"
    made = await manage("db", "backup", str(file), env=env)
    assert made.code == 0 and f"written to {file}" in made.out, made
    assert file.stat().st_mode & 0o077 == 0  # it holds every user's data

    # The disaster: the database is gone. Restore makes a fresh one and fills it.
    drop_database(data_dir)
    restored = await manage("db", "restore", str(file), env=env)
    assert restored.code == 0, restored
    assert "OK: all invariants hold (5 users" in restored.out, restored
    assert await snapshot(urls.app) == before  # as the application role sees it

    # Restoring over a database that moved on puts it back exactly (and drops what was new).
    await build_ledger(urls.app, 820_001)
    assert (await snapshot(urls.app))[1] > before[1]
    assert (await manage("db", "restore", str(file), env=env)).code == 0
    assert await snapshot(urls.app) == before

    # A default name under backups/ (not overwritten by the next one).
    default = await manage("db", "backup", env=env)
    assert default.code == 0, default
    written = Path(default.out.split(" written to ")[1].split(" (")[0])
    try:
        assert written.parent.name == "backups" and written.suffix == ".dump"
    finally:
        remove(written)


async def test_clear_one_line_refusals(tmp_path: Path, data_dir: Path, env: dict[str, str]) -> None:
    urls = app_urls(data_dir)
    await asyncio.to_thread(migrate, urls.owner)
    await build_ledger(urls.app, 830_001)
    before = await snapshot(urls.app)

    missing = await manage("db", "restore", str(tmp_path / "nope.dump"), env=env)
    assert missing.code == 1 and "no such backup file" in one_line(missing)

    junk = tmp_path / "junk.dump"
    junk.write_text("not a backup")
    refused = await manage("db", "restore", str(junk), env=env)
    assert refused.code == 1 and "is not a backup made by" in one_line(refused), refused

    truncated = tmp_path / "truncated.dump"
    good = tmp_path / "good.dump"
    assert (await manage("db", "backup", str(good), env=env)).code == 0
    truncated.write_bytes(good.read_bytes()[:-20])  # the TOC reads fine, the data does not
    broken = await manage("db", "restore", str(truncated), env=env)
    assert broken.code == 1 and "nothing restored" in broken.err, broken

    exists = await manage("db", "backup", str(good), env=env)
    assert exists.code == 1 and "never overwritten" in one_line(exists)
    nowhere = await manage("db", "backup", str(tmp_path / "no" / "such" / "x.dump"), env=env)
    assert nowhere.code == 1 and "does not exist" in one_line(nowhere)
    usage = await manage("db", "restore", env=env)
    assert usage.code == 1 and "usage" in one_line(usage)

    # A running bot (here: a live pid in its pidfile) blocks a restore.
    pidfile = pretend_the_bot_runs(Path(env["RUN_DIR"]))
    running = await manage("db", "restore", str(good), env=env)
    remove(pidfile)
    assert running.code == 1 and "stop it first" in one_line(running)

    assert await snapshot(urls.app) == before  # none of it changed anything


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="set TEST_DATABASE_URL to test DATABASE_URL"
)
async def test_backup_and_restore_with_database_url(tmp_path: Path) -> None:
    server = make_url(normalise_url(os.environ["TEST_DATABASE_URL"]))
    name = f"syntra_backup_{os.getpid()}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    env = bot_env(DATABASE_URL=url, LOG_DIR=tmp_path / "logs")
    env["RUN_DIR"] = str(tmp_path / "run")
    try:
        await asyncio.to_thread(migrate, url)
        await build_ledger(url, 840_001)
        before = await snapshot(url)
        file = tmp_path / "external.dump"
        assert (await manage("db", "backup", str(file), env=env)).code == 0
        await build_ledger(url, 850_001)
        restored = await manage("db", "restore", str(file), env=env)
        assert restored.code == 0, restored
        assert await snapshot(url) == before
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
