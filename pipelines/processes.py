"""Processes on this machine, read from /proc: which are alive, and stopping a run's children.

A refresh starts dbt as a subprocess and Dagster records the pid of each run's process; both
facts are only useful if we can tell a live process from a dead one whose pid was reused.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

_PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return text[text.rindex(")") + 2:].split()


def process_start_time(pid: int) -> float | None:
    """When the process started (seconds since the epoch), or None when there is no such process."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] == "Z":  # a zombie has finished
        return None
    ticks_since_boot = int(fields[19])
    boot = next(int(line.split()[1]) for line in (_PROC / "stat").read_text().splitlines()
                if line.startswith("btime "))
    return boot + ticks_since_boot / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, *, started_by: float | None = None) -> bool:
    """True when `pid` runs and, given `started_by` (epoch seconds), started no later than that.

    A process that started after the moment we know the pid from is another process that
    reuses the number: the one we look for is gone.
    """
    started = process_start_time(pid)
    if started is None:
        return False
    # /proc's start time has clock-tick resolution; allow a second of slack.
    return started_by is None or started <= started_by + 1.0


def child_processes(pid: int) -> list[int]:
    """Every descendant of `pid`, children before grandchildren."""
    parents: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, frontier = [], [pid]
    while frontier:
        children = [child for parent in frontier for child in parents.get(parent, [])]
        found += children
        frontier = children
    return found


def stop_processes(pids: list[int], *, grace_seconds: float = 10.0) -> None:
    """SIGTERM, then SIGKILL whatever is still running after the grace period."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(process_alive(pid) for pid in pids):
        _reap(pids)
        time.sleep(0.1)
    for pid in pids:
        if process_alive(pid):
            _signal(pid, signal.SIGKILL)
    _reap(pids)


def stop_children(*, keep: set[int] = frozenset(), grace_seconds: float = 10.0) -> list[int]:
    """Stop the processes this one started (and theirs), except those in `keep`; returns their pids."""
    children = [pid for pid in child_processes(os.getpid()) if pid not in keep]
    stop_processes(children, grace_seconds=grace_seconds)
    return children


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(pids: list[int]) -> None:
    """Collect our own children that have exited, so they do not linger as zombies."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
