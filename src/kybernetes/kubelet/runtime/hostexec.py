"""Running a command as a plain host process with a given environment and directory:
the `process` runtime's exec and exec_sync (no isolation whatsoever).

Every command runs in its own session (so its whole process group can be killed);
with a TTY it gets a new pseudo-terminal as its controlling terminal (through
util-linux `setsid --ctty`, so no code runs between fork and exec in our threaded
process). Invariants: a session's `kill()` ends the command's process group and reaps
it; `run_sync` never leaves its command running past the timeout; when a command ends,
what it left running in its process group is killed. (In a real container such
leftovers would live on until the container stops; here nothing would ever stop them.)
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import shutil
import signal
import struct
import termios
from collections.abc import Awaitable, Sequence
from contextlib import suppress
from typing import TypeVar

from kybernetes.client.clock import Clock

from .interface import ContainerRuntimeError, ExecResult
from .shimstate import resolve_executable

T = TypeVar("T")


async def within(awaitable: Awaitable[T], clock: Clock, seconds: float) -> T:
    """`awaitable`'s result, or TimeoutError once `seconds` have passed on `clock`
    (the awaitable is then cancelled)."""
    task = asyncio.ensure_future(awaitable)
    timer = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        if not task.done():
            task.cancel()
        await asyncio.gather(task, timer, return_exceptions=True)
    if task.cancelled():
        raise TimeoutError
    return task.result()


def _check(cmd: Sequence[str], env: dict[str, str], cwd: str) -> None:
    """Raises ContainerRuntimeError worded like runc's exec when `cmd` cannot run."""
    if not cmd:
        raise ContainerRuntimeError("ExecError", "exec: no command specified")
    try:
        resolve_executable(cmd[0], env, cwd)
    except ValueError as e:
        raise ContainerRuntimeError(
            "ExecError",
            f"OCI runtime exec failed: exec failed: unable to start container process: {e}",
        ) from None


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def run_sync(
    cmd: Sequence[str], env: dict[str, str], cwd: str, clock: Clock, seconds: float
) -> ExecResult:
    """Runs `cmd` to completion; past `seconds` kills it and raises TimeoutError."""
    _check(cmd, env, cwd)
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = await within(proc.communicate(), clock, seconds)
    except BaseException:
        _kill_group(proc.pid)
        await proc.wait()
        raise
    _kill_group(proc.pid)  # what it left behind in its group goes with it
    assert proc.returncode is not None
    code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    return ExecResult(code, out, err)


class _PtyReader(asyncio.StreamReaderProtocol):
    """A pty master reports the end of its slave side as EIO: that is EOF."""

    def connection_lost(self, exc: Exception | None) -> None:
        if isinstance(exc, OSError) and exc.errno == errno.EIO:
            exc = None
        super().connection_lost(exc)


class HostSession:
    """A StreamedProcess for an exec'd host process (see interface.StreamedProcess)."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader | None,
        stdin: asyncio.StreamWriter | None,
        master: int = -1,
        transports: Sequence[asyncio.BaseTransport] = (),
    ) -> None:
        self._proc = proc
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self._master = master
        self._transports = transports
        self.pid = proc.pid

    def resize(self, width: int, height: int) -> None:
        if self._master >= 0 and self._proc.returncode is None:
            with suppress(OSError):
                size = struct.pack("HHHH", height, width, 0, 0)
                fcntl.ioctl(self._master, termios.TIOCSWINSZ, size)

    async def wait(self) -> int:
        code = await self._proc.wait()
        _kill_group(self._proc.pid)  # see the module docstring
        return code if code >= 0 else 128 - code

    async def kill(self) -> None:
        if self._proc.returncode is None:
            _kill_group(self._proc.pid)
        await self._proc.wait()
        for transport in self._transports:
            transport.close()


async def start(
    cmd: Sequence[str], env: dict[str, str], cwd: str, *, tty: bool, stdin: bool
) -> HostSession:
    """Starts `cmd` with its stdio streamed (see HostSession); with `tty`, stderr is
    merged into stdout on a new pseudo-terminal."""
    _check(cmd, env, cwd)
    if not tty:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            env=env,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert proc.stdout is not None and proc.stderr is not None
        return HostSession(proc, proc.stdout, proc.stderr, proc.stdin)
    loop = asyncio.get_running_loop()
    master, slave = os.openpty()
    setsid = shutil.which("setsid")
    prefix = [setsid, "--ctty", "--"] if setsid else []
    try:
        proc = await asyncio.create_subprocess_exec(
            *prefix,
            *cmd,
            env=env,
            cwd=cwd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=not setsid,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    reader = asyncio.StreamReader()
    out_transport, _ = await loop.connect_read_pipe(
        lambda: _PtyReader(reader), os.fdopen(master, "rb", buffering=0)
    )
    writer = None
    transports: list[asyncio.BaseTransport] = [out_transport]
    if stdin:
        in_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(os.dup(master), "wb", buffering=0)
        )
        writer = asyncio.StreamWriter(in_transport, protocol, None, loop)
        transports.append(in_transport)
    return HostSession(proc, reader, None, writer, master, transports)
