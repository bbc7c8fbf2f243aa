"""Processes of a local cluster: identifying, finding and stopping them.

A process is recorded as `ProcessRef(pid, start)` — its pid and its start time in
clock ticks since boot (/proc/PID/stat field 22), so a recycled pid is never mistaken
for it. `in_namespaces` finds every process whose network namespace is one of the
cluster's (the node processes, their children, and the `process` runtime's
containers, which stay in their node's namespace).

Invariants: `stop` only ever signals the processes it is given (never by name or
pattern); a zombie counts as gone (it holds no resources but its pid, and it is its
parent's to reap); `stop` returns only when every given process is gone or
SIGKILL was sent and `kill_timeout` passed (the survivors are returned).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessRef:
    """One process: pid and start time (ticks since boot)."""

    pid: int
    start: int

    def alive(self) -> bool:
        """Running (not a zombie) and still the same process."""
        stat = _stat(self.pid)
        return stat is not None and stat[1] == self.start and stat[0] != "Z"


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) of `pid`, or None if there is no such process."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def ref(pid: int) -> ProcessRef | None:
    """The reference of running process `pid`, None if it is gone."""
    stat = _stat(pid)
    return ProcessRef(pid, stat[1]) if stat is not None and stat[0] != "Z" else None


def in_namespaces(inodes: Collection[int]) -> list[ProcessRef]:
    """Every live process whose network namespace has one of `inodes`."""
    wanted = {f"net:[{i}]" for i in inodes}
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            link = os.readlink(entry / "ns" / "net")
        except OSError:
            continue
        if link in wanted and (process := ref(int(entry.name))) is not None:
            found.append(process)
    return found


def _signal(processes: Iterable[ProcessRef], sig: int) -> None:
    for process in processes:
        if process.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, sig)


def _wait_gone(processes: list[ProcessRef], timeout: float) -> list[ProcessRef]:
    deadline = time.monotonic() + timeout
    while True:
        living = [p for p in processes if p.alive()]
        if not living or time.monotonic() >= deadline:
            return living
        time.sleep(0.05)


def stop(
    processes: Iterable[ProcessRef], grace: float = 10.0, kill_timeout: float = 5.0
) -> list[ProcessRef]:
    """SIGTERM, then SIGKILL to those alive after `grace` seconds; the processes still
    alive `kill_timeout` seconds later (normally none)."""
    targets = [p for p in processes if p.alive()]
    _signal(targets, signal.SIGTERM)
    living = _wait_gone(targets, grace)
    _signal(living, signal.SIGKILL)
    return _wait_gone(living, kill_timeout)
