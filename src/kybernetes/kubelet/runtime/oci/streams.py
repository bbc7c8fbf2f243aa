"""`runc exec` for the oci runtime: `exec_sync` (probes, hooks) and streamed sessions.

runc writes its `--pid-file` only once the exec'd process really started, so a runc
that exits without having written it could not start the command: that is reported
(with the reason from runc's `--log`) as
ContainerRuntimeError("ExecError", "OCI runtime exec failed: exec failed: …") worded as
containerd words it (and as the process runtime does), not as an exit code.

The exec'd process runs in its own session inside the container, so killing runc's
process group does not reach it: it is killed by the pid runc wrote (then runc exits by
itself). Starting and streaming (pipes, or a pseudo-terminal) is `hostexec`'s, shared
with the process runtime.

Invariants: `exec_sync` never leaves the command running past its timeout; a
session's `kill()` is idempotent and ends the exec'd process too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

from kybernetes.client.clock import Clock
from kybernetes.kubelet.runtime import hostexec
from kybernetes.kubelet.runtime.interface import ContainerRuntimeError, ExecResult
from kybernetes.kubelet.runtime.oci.runc import START_FAILURE_PREFIX, start_error


def kill_pid_file(pid_file: Path) -> None:
    """SIGKILLs the process whose pid runc wrote into `pid_file` (if any)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _started(pid_file: Path) -> bool:
    return pid_file.exists()


def _forget(pid_file: Path) -> None:
    pid_file.unlink(missing_ok=True)
    log_of(pid_file).unlink(missing_ok=True)


def log_of(pid_file: Path) -> Path:
    """The `--log` file of the `runc exec` that writes `pid_file`."""
    return pid_file.with_suffix(".log")


def exec_failure(pid_file: Path) -> ContainerRuntimeError:
    """The error for a command runc could not start, from runc's log."""
    reason = start_error(log_of(pid_file))
    return ContainerRuntimeError(
        "ExecError", f"OCI runtime exec failed: exec failed: {START_FAILURE_PREFIX}{reason}"
    )


async def exec_sync(argv: list[str], pid_file: Path, clock: Clock, seconds: float) -> ExecResult:
    """Runs `argv` (a `runc --log log_of(PID_FILE) exec --pid-file PID_FILE …`) to
    completion; past `seconds` (0: no limit) kills the exec'd process and raises
    TimeoutError. Raises ContainerRuntimeError (ExecError) when runc cannot start it."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        if seconds > 0:
            out, err = await hostexec.within(proc.communicate(), clock, seconds)
        else:
            out, err = await proc.communicate()
    except BaseException:
        kill_pid_file(pid_file)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        _forget(pid_file)
        raise
    code = proc.returncode or 0
    try:
        if code != 0 and not _started(pid_file):
            raise exec_failure(pid_file)
    finally:
        _forget(pid_file)
    return ExecResult(code if code >= 0 else 128 - code, out, err)


class ExecSession:
    """A streamed `runc exec` (interface.StreamedProcess)."""

    def __init__(
        self, session: hostexec.HostSession, pid_file: Path, exited: asyncio.Future[int]
    ) -> None:
        self._session = session
        self._pid_file = pid_file
        self._exited = exited
        self.stdin = session.stdin
        self.stdout = session.stdout
        self.stderr = session.stderr

    @classmethod
    async def start(cls, argv: list[str], pid_file: Path, *, tty: bool, stdin: bool) -> ExecSession:
        """Starts `argv` (a `runc exec --pid-file PID_FILE …`) with streamed stdio;
        returns once the command runs. Raises ContainerRuntimeError (ExecError)."""
        session = await hostexec.start(argv, dict(os.environ), "/", tty=tty, stdin=stdin)
        exited = asyncio.ensure_future(session.wait())
        while not _started(pid_file) and not exited.done():
            await asyncio.wait({exited}, timeout=0.002)
        if not _started(pid_file):
            await session.kill()
            error = exec_failure(pid_file)
            _forget(pid_file)
            raise error
        return cls(session, pid_file, exited)

    def resize(self, width: int, height: int) -> None:
        self._session.resize(width, height)

    async def wait(self) -> int:
        code = await self._exited
        _forget(self._pid_file)
        return code

    async def kill(self) -> None:
        kill_pid_file(self._pid_file)
        await self._session.kill()
        await self._exited
        _forget(self._pid_file)
