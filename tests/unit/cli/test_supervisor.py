"""Child processes of `kyb server`: restarted when they die, stopped with their parent."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from kybernetes.cli.supervisor import supervise


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _poll(path: Path, lines: int) -> list[str]:
    deadline = time.monotonic() + 20
    while not path.exists() or len(path.read_text().split()) < lines:
        assert time.monotonic() < deadline, f"{path} never got {lines} lines"
        time.sleep(0.02)
    return path.read_text().split()


async def wait_for_file(path: Path, lines: int) -> list[str]:
    return await asyncio.to_thread(_poll, path, lines)


async def test_a_dying_child_is_restarted_and_a_cancelled_one_stopped(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = (
        "import os, sys, time\n"
        f"p = {str(pids)!r}\n"
        "n = len(open(p).read().split()) if os.path.exists(p) else 0\n"
        "open(p, 'a').write(f'{os.getpid()}\\n')\n"
        "sys.exit(3) if n == 0 else time.sleep(60)\n"
    )
    task = asyncio.create_task(
        supervise("test", [sys.executable, "-c", script], initial_backoff=0.05, stop_timeout=5)
    )
    first, second = await wait_for_file(pids, 2)
    assert first != second
    assert alive(int(second))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert not alive(int(second))


async def test_a_child_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    script = (
        "import signal, time, os\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(ready)!r}, 'w').write(str(os.getpid()))\n"
        "time.sleep(60)\n"
    )
    task = asyncio.create_task(
        supervise("stubborn", [sys.executable, "-c", script], stop_timeout=0.2)
    )
    (pid,) = await wait_for_file(ready, 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert not alive(int(pid))


def test_children_die_with_a_killed_parent(tmp_path: Path) -> None:
    """A supervisor process SIGKILLed: its child goes too (PR_SET_PDEATHSIG)."""
    import subprocess

    pid_file = tmp_path / "child"
    child = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    parent = (
        "import asyncio, sys\n"
        "from kybernetes.cli.supervisor import supervise\n"
        f"asyncio.run(supervise('child', [sys.executable, '-c', {child!r}]))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", parent])
    try:
        (pid,) = _poll(pid_file, 1)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 10
        while alive(int(pid)):
            assert time.monotonic() < deadline, "the child outlived its killed supervisor"
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
