"""Where the CPU went during a measured run: the whole machine versus our own load generators.

On a small machine the client, the server and anything else running share the same cores, so
every figure is reported with how busy the machine was (from /proc/stat; None elsewhere).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Cpu:
    """Average cores in use during a measured run."""

    client_cores: float  # the load generator (pgbench, or our client processes)
    server_cores: float | None  # the PostgreSQL backends serving it (local server only)
    machine_cores: float | None  # everything on the machine, other work included

    @property
    def other_cores(self) -> float | None:
        """Everything else: the server's own background processes, the kernel, other work."""
        if self.machine_cores is None or self.server_cores is None:
            return None
        return max(self.machine_cores - self.client_cores - self.server_cores, 0.0)

    def per_call_us(self, rate: float) -> dict[str, float | None]:
        def per(cores: float | None) -> float | None:
            return None if cores is None or rate <= 0 else cores / rate * 1e6

        return {
            "client": per(self.client_cores),
            "server": per(self.server_cores),
            "machine": per(self.machine_cores),
        }


def cpu_count() -> int:
    return os.cpu_count() or 1


def machine_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time since boot over all cores, or None without /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def busy_cores(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """Cores in use on average between two machine_jiffies() samples."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1]) * cpu_count()


def background_cores(seconds: float = 2.0) -> float | None:
    """How busy the machine is while the benchmark itself does nothing: the noise floor."""
    before = machine_jiffies()
    time.sleep(seconds)
    return busy_cores(before, machine_jiffies())


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to `database` (by process title).

    Only works when the server runs on this machine and /proc is readable; {} otherwise.
    """
    found: dict[int, float] = {}
    marker = f" {database} "
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return found
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            if not title.startswith("postgres:") or marker not in title:
                continue
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
    return found


def server_seconds(before: dict[int, float], after: dict[int, float]) -> float | None:
    """CPU the backends used between two samples (None if none were seen).

    A backend that started in between counts whole; one that exited in between is lost with
    its CPU time, so take the second sample before the client closes its connections."""
    if not after:
        return None
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())
