"""Runs `kyb` components as child processes of `kyb server` (or `kyb agent`).

Each component is a client of the API server, so it can live in its own process; the
scheduler and the controller manager then use the machine's other cores instead of
sharing the API server's event loop. `supervise(name, argv)` runs one child until
cancelled: the child inherits stdout/stderr; if it exits on its own it is started
again after a backoff (1 s doubling to 30 s, reset once it has run for a minute), as
systemd's Restart=always would; on cancellation it gets SIGTERM, then SIGKILL after
`stop_timeout` seconds, and is always reaped; a child also gets SIGTERM if its parent
dies without stopping it (SIGKILL) — no child outlives its supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import sys
import time
from collections.abc import Sequence
from typing import Final

log = logging.getLogger(__name__)

INITIAL_BACKOFF: Final = 1.0
MAX_BACKOFF: Final = 30.0
RESET_AFTER: Final = 60.0
PR_SET_PDEATHSIG: Final = 1


def kyb_command(*args: str) -> list[str]:
    """The argv that runs `kyb ARGS...` with this interpreter."""
    return [sys.executable, "-m", "kybernetes.cli.main", *args]


async def supervise(
    name: str,
    argv: Sequence[str],
    *,
    stop_timeout: float = 10.0,
    initial_backoff: float = INITIAL_BACKOFF,
) -> None:
    """Keeps `argv` running until cancelled (see the module docstring)."""
    backoff = initial_backoff
    while True:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        try:
            code = await process.wait()
        except asyncio.CancelledError:
            await _stop(process, stop_timeout)
            raise
        if time.monotonic() - started > RESET_AFTER:
            backoff = initial_backoff
        print(
            f"kyb server: {name} exited with status {code}; restarting in {backoff:g}s",
            file=sys.stderr,
            flush=True,
        )
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM it when its parent dies, even by SIGKILL
    (Linux's PR_SET_PDEATHSIG), so a killed `kyb server` leaves no component behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


async def _stop(process: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; reaps the child."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.shield(asyncio.wait_for(process.wait(), grace))
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await asyncio.shield(process.wait())
