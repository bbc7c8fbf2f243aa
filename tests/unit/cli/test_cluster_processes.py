"""Finding and stopping a cluster's processes (no root needed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from kybernetes.cli.cluster.processes import ProcessRef, in_namespaces, ref, stop


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for child in started:
        child.kill()
        child.wait()


def _spawn(children: list[subprocess.Popen[bytes]], code: str) -> subprocess.Popen[bytes]:
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    children.append(child)
    assert child.stdout is not None
    child.stdout.readline()  # the child says it is ready
    return child


def test_ref_identifies_a_process() -> None:
    me = ref(os.getpid())
    assert me is not None and me.alive()
    assert not ProcessRef(me.pid, me.start + 1).alive()
    assert ref(2**22 + 1) is None  # above any pid_max


def test_stop_terminates(children: list[subprocess.Popen[bytes]]) -> None:
    child = _spawn(children, "import time; print(flush=True); time.sleep(60)")
    process = ref(child.pid)
    assert process is not None
    assert stop([process], grace=10) == []
    assert child.wait(5) == -signal.SIGTERM


def test_stop_kills_what_ignores_sigterm(children: list[subprocess.Popen[bytes]]) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(flush=True); time.sleep(60)"
    )
    child = _spawn(children, code)
    process = ref(child.pid)
    assert process is not None
    assert stop([process], grace=0.2) == []
    assert child.wait(5) == -signal.SIGKILL


def test_a_zombie_counts_as_gone(children: list[subprocess.Popen[bytes]]) -> None:
    child = _spawn(children, "print(flush=True)")
    process = ref(child.pid)
    assert process is not None
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped
    assert not process.alive()
    assert stop([process]) == []


def test_in_namespaces_finds_processes_of_a_network_namespace() -> None:
    inode = os.stat("/proc/self/ns/net").st_ino
    found = in_namespaces([inode])
    assert os.getpid() in {p.pid for p in found}
    assert in_namespaces([]) == []
