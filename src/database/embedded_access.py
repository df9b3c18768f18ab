"""Who can reach the embedded PostgreSQL: a private socket directory and two roles.

src/database/embedded.py starts and stops the server; this module decides where its socket
lives and what the application's role may do (docs/RELIABILITY.md, "Embedded PostgreSQL").
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

OWNER_ROLE = "postgres"  # superuser, owns the databases: migrations, backups, db psql
APP_ROLE = "syntra_app"  # the bot and the services: data, not schema
PORT = 5432  # names the socket file; nothing listens on TCP
MAX_SOCKET_PATH = 107  # bytes: sun_path is 108 with its terminating NUL
SOCKET_BASE = Path("/tmp")


class SocketDirError(RuntimeError):
    """The socket directory cannot be made private; the message says what to do."""


def is_private(path: Path, uid: int) -> bool:
    """A real directory (not a link) owned by `uid`, closed to group and others."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == uid
        and stat.S_IMODE(info.st_mode) & 0o077 == 0
    )


def socket_dir(pgdata: Path, uid: int, gid: int) -> Path:
    """pgdata (0700, PostgreSQL insists) if the socket path fits, else a private directory
    named after pgdata: the same on every start, so clients' URLs survive a restart."""
    if len(str(pgdata / f".s.PGSQL.{PORT}").encode()) <= MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(f"{pgdata}\0{uid}".encode()).hexdigest()[:16]
    path = SOCKET_BASE / f"syntra-pg-{digest}"
    try:
        path.mkdir(mode=0o700)
        if os.geteuid() == 0:
            os.chown(path, uid, gid)
    except FileExistsError:
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid not in {uid, os.geteuid()}:
            raise SocketDirError(
                f"{path} exists and is not ours (uid {info.st_uid}): remove it, or use a "
                "shorter DATA_DIR so the socket can live in it"
            ) from None
        if info.st_uid != uid:
            os.chown(path, uid, gid)
    path.chmod(0o700)  # the sticky /tmp keeps others from replacing it afterwards
    return path


# What the application role may do in a database. Default privileges cover whatever the owner
# creates later (migrations, restores); the GRANTs cover what exists already (older data).
APP_GRANTS = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE};
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {APP_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER_ROLE}
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER_ROLE} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {APP_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER_ROLE} GRANT EXECUTE ON FUNCTIONS TO {APP_ROLE};
"""
