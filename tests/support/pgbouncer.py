"""A PgBouncer in transaction mode in front of the test database (when `pgbouncer` is installed).

with PgBouncer(app_url) as bouncer:       # app_url: the services' URL of the test database
    bouncer.url                           # the same database, through PgBouncer

Clients connect over TCP without a password (`auth_type = any`); PgBouncer logs in to the
server as the URL's role, over the URL's host (a Unix socket directory or a TCP host). As root
it runs as the OS user that owns the socket directory (PgBouncer refuses to run as root; the
embedded server's socket admits its own user only).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import make_url

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgBouncer:
    def __init__(self, server_url: str, *, pool_size: int = 4, pool_mode: str = "transaction"):
        self.server = make_url(server_url)
        self.pool_size = pool_size
        self.pool_mode = pool_mode
        self.port = _free_port()
        self.home = Path(tempfile.mkdtemp(prefix="syntra-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{self.server.username}@127.0.0.1:{self.port}/syntra"

    def _config(self) -> str:
        host = self.server.query.get("host") or self.server.host or "127.0.0.1"
        port = self.server.query.get("port") or self.server.port or 5432
        password = f" password={self.server.password}" if self.server.password else ""
        return f"""[databases]
syntra = host={host} port={port} dbname={self.server.database} user={self.server.username}{password}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = any
pool_mode = {self.pool_mode}
default_pool_size = {self.pool_size}
max_client_conn = 500
logfile = {self.home / "pgbouncer.log"}
pidfile = {self.home / "pgbouncer.pid"}
"""

    def __enter__(self) -> PgBouncer:
        assert PGBOUNCER is not None, "pgbouncer is not installed"
        ini = self.home / "pgbouncer.ini"
        ini.write_text(self._config())
        args = [PGBOUNCER, str(ini)]
        if os.geteuid() == 0:
            host = str(self.server.query.get("host") or "")
            owner = Path(host).owner() if host.startswith("/") else "nobody"
            shutil.chown(self.home, owner)
            args += ["-u", owner]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError(f"pgbouncer did not start: {self.log()}")

    def log(self) -> str:
        path = self.home / "pgbouncer.log"
        out = (
            self.process.stdout.read().decode()
            if self.process and self.process.stdout and self.process.poll() is not None
            else ""
        )
        return (path.read_text() if path.exists() else "") + out

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.home, ignore_errors=True)
