"""Fixtures for tests that start container shims: `shim_dir` is a temporary directory
for their state; afterwards every shim and container process started under it must be
gone (the test fails if one is left, after it has been killed). Shim fork servers are
long-lived by design: they are stopped, not counted."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from kybernetes.kubelet.runtime.shim import proc_starttime

SHIM_MODULE = b"kybernetes.kubelet.runtime.shim\0"


def shims_under(root: Path, module: bytes = SHIM_MODULE) -> list[int]:
    """Pids of shim (or shim server) processes whose command line mentions `root`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if module in cmdline and str(root).encode() in cmdline:
            found.append(int(entry))
    return found


def recorded_under(root: Path, *names: str) -> list[int]:
    """Live processes recorded in files called `names` (PID STARTTIME) under `root`:
    by default shims and containers (a shim forked by a shim server has the server's
    command line, so only its file tells it apart)."""
    found = []
    for pid_file in [p for name in names or ("pid", "shim.pid") for p in root.rglob(name)]:
        parts = pid_file.read_text().split()
        if len(parts) == 2 and proc_starttime(int(parts[0])) == parts[1]:
            found.append(int(parts[0]))
    return found


def leftovers(root: Path, deadline: float = 3.0) -> list[int]:
    """What is still running under `root` once shims had `deadline` s to finish."""
    end = time.monotonic() + deadline
    while (left := sorted({*shims_under(root), *recorded_under(root)})) and time.monotonic() < end:
        time.sleep(0.02)
    return left


@pytest.fixture
def shim_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    left = leftovers(tmp_path)
    for pid in left:
        for kill in (os.killpg, os.kill):
            with suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)
    for server in recorded_under(tmp_path, "*.sock.pid"):
        with suppress(ProcessLookupError):
            os.kill(server, signal.SIGKILL)
    assert not left, f"processes left running: {left}"
