"""The runtime's side of the container shim (`shim.py`): launch it, read its state
files, send it requests and attach to the container's stdio through its socket.

Shared by the `process` and `oci` runtimes. The state directory is the shim's
`--state-dir`; everything here is derived from the files the shim writes there, so a
fresh runtime object (after a kubelet restart) sees exactly what the old one saw.

Invariants: `read_state` never blocks on the shim (it only reads small files);
requests to a shim that has already ended raise `ShimGone`, and callers then rely on
the `exit` record, which the shim writes before it closes its socket.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from .interface import ContainerRuntimeError
from .shimstate import proc_starttime, socket_path

SHIM_MODULE = "kybernetes.kubelet.runtime.shim"
SERVER_MODULE = "kybernetes.kubelet.runtime.shimserver"


class ShimStartError(Exception):
    """ARGV could not be started; str(e) is worded like runc (`exec: "x": ...`)."""


class ShimGone(ContainerRuntimeError):
    """The shim has ended (its container has exited) or never ran."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__("ContainerNotRunning", f"no container shim is running in {state_dir}")


@dataclass(frozen=True)
class ExitRecord:
    """How the container's process ended: exit_code is 128+signal when signalled."""

    exit_code: int
    signal: int
    finished_at: int


@dataclass(frozen=True)
class ShimState:
    """What the state directory says. `started_at` 0: never started. `shim_alive`:
    the shim process (same pid and start time) still runs. `process_alive`: the
    container's own process still runs (it may outlive a SIGKILLed shim)."""

    started_at: int
    pid: int
    exit: ExitRecord | None
    shim_alive: bool
    process_alive: bool


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _alive(record: str) -> tuple[int, bool]:
    """(pid, alive) for a `PID STARTTIME` record."""
    parts = record.split()
    if len(parts) != 2:
        return 0, False
    pid = int(parts[0])
    return pid, proc_starttime(pid) == parts[1]


def read_state(state_dir: Path) -> ShimState:
    """The shim's state from its files (see the module docstring of `shim`)."""
    pid, process_alive = _alive(_read(state_dir / "pid"))
    _, shim_alive = _alive(_read(state_dir / "shim.pid"))
    started = _read(state_dir / "started_at").strip()
    raw_exit = _read(state_dir / "exit")
    record = None
    if raw_exit:
        data = json.loads(raw_exit)
        record = ExitRecord(data["exit_code"], data["signal"], data["finished_at"])
    return ShimState(int(started or 0), pid, record, shim_alive, process_alive)


@dataclass(frozen=True)
class ShimStart:
    pid: int
    shim_pid: int
    started_at: int


async def launch(
    state_dir: Path,
    argv: Sequence[str],
    *,
    log_path: str = "",
    env: Sequence[tuple[str, str]] | None = None,
    cwd: str = "",
    stdin: bool = False,
    stdin_once: bool = False,
    tty: bool = False,
    forkserver: Path | None = None,
) -> ShimStart:
    """Starts a shim running `argv` and returns once `argv` runs. `env` None inherits
    ours (or the fork server's). With `forkserver` (a socket path) the shim is forked by
    the `shimserver` there, started on demand, which saves a Python start per container;
    if that server cannot take the request, the shim is started directly. Raises
    ShimStartError when `argv` cannot be executed."""
    os.makedirs(state_dir, exist_ok=True)
    args = ["--state-dir", str(state_dir)]
    if env is not None:
        env_file = state_dir / "env"
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(b"".join(f"{k}={v}".encode() + b"\0" for k, v in env))
        args += ["--env-file", str(env_file)]
    if log_path:
        args += ["--log-path", log_path]
    if cwd:
        args += ["--cwd", cwd]
    args += ["--stdin"] * stdin + ["--stdin-once"] * stdin_once + ["--tty"] * tty
    args += ["--", *argv]
    out = await _via_forkserver(forkserver, args) if forkserver is not None else None
    if out is None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", SHIM_MODULE, *args,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await proc.communicate()
    try:
        report = json.loads(out)
    except ValueError:
        report = {"error": f"container shim failed to start; see {state_dir}/shim.log"}
    if "error" in report:
        raise ShimStartError(report["error"])
    return ShimStart(report["pid"], report["shim_pid"], report["started_at"])


def stop_forkserver(path: Path) -> None:
    """Stops the shim server at `path` if one runs (the shims it forked keep running)."""
    pid, alive = _alive(_read(path.with_name(path.name + ".pid")))
    if alive:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


async def _via_forkserver(path: Path, args: list[str]) -> bytes | None:
    """The start report of a shim forked by the server at `path` (started if need be);
    None when no server took the request (then nothing was started)."""
    for attempt in range(2):
        try:
            reader, writer = await _open(path)
        except (OSError, ShimGone):
            if attempt:
                return None
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", SERVER_MODULE, "--socket", str(path),
                stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await proc.wait()
            continue
        try:
            writer.write(json.dumps(args).encode() + b"\n")
            if await reader.read(1) != b"+":
                return None  # not taken (the server was just ending): start it directly
            return await reader.read()
        except ConnectionError:
            return None
        finally:
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()
    return None


async def _open(path: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the unix socket `path`, however long; ShimGone if none listens."""
    address, dir_fd = str(path), -1
    if len(address.encode()) >= 100:  # sockaddr_un holds ~108 bytes: go through the fd
        dir_fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
        address = f"/proc/self/fd/{dir_fd}/{path.name}"
    try:
        return await asyncio.open_unix_connection(address)
    except (FileNotFoundError, ConnectionError) as e:
        raise ShimGone(path.parent) from e
    finally:
        if dir_fd >= 0:
            os.close(dir_fd)


async def _connect(
    state_dir: Path, request: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the shim's socket with `request` sent; ShimGone if none."""
    reader, writer = await _open(Path(socket_path(str(state_dir))))
    writer.write(request.encode() + b"\n")
    return reader, writer


async def _exchange(state_dir: Path, line: str) -> str:
    """Sends `line` and returns the shim's one-line answer ('' if it closed first)."""
    reader, writer = await _connect(state_dir, line)
    try:
        return (await reader.readline()).decode().strip()
    except ConnectionError:  # reset: it ended with our connection still unaccepted
        return ""
    finally:
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()


async def request(state_dir: Path, line: str) -> None:
    """Sends a one-shot request (`signal N`, `reopen`, `resize C R`). Raises ShimGone,
    or RuntimeError with the shim's message when it refuses."""
    reply = await _exchange(state_dir, line)
    if not reply:
        raise ShimGone(state_dir)
    if reply != "ok":
        raise RuntimeError(reply.removeprefix("error "))


async def send_signal(state_dir: Path, sig: signal.Signals) -> None:
    """Signals the container's process group through its shim; ShimGone if it ended."""
    await request(state_dir, f"signal {int(sig)}")


async def wait_exit(state_dir: Path) -> ExitRecord:
    """Waits for the container to exit. Raises ShimGone if it has no shim and no
    exit record (the shim was killed: the exit status is lost)."""
    with suppress(ShimGone):
        await _exchange(state_dir, "wait")
    record = read_state(state_dir).exit
    if record is None:
        raise ShimGone(state_dir)
    return record


class Attachment:
    """A StreamedProcess on a container's own stdio (see interface.StreamedProcess)."""

    def __init__(
        self,
        state_dir: Path,
        control: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader | None,
        stdin: asyncio.StreamWriter | None,
        writers: list[asyncio.StreamWriter],
    ) -> None:
        self._state_dir = state_dir
        self._control = control
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self._writers = writers

    def resize(self, width: int, height: int) -> None:
        if not self._control[1].is_closing():
            self._control[1].write(f"resize {width} {height}\n".encode())

    async def wait(self) -> int:
        """The container's exit code once it has exited."""
        with suppress(ConnectionError):
            await self._control[0].readline()
        record = read_state(self._state_dir).exit
        if record is None:
            raise ShimGone(self._state_dir)
        return record.exit_code

    async def kill(self) -> None:
        """Detaches (the container keeps running)."""
        for writer in self._writers:
            writer.close()
        for writer in self._writers:
            with suppress(OSError):
                await writer.wait_closed()


async def attach(state_dir: Path, *, tty: bool, stdin: bool) -> Attachment:
    """Attaches to the container's output (and its stdin when `stdin`). Raises ShimGone
    if the container is not running."""
    writers: list[asyncio.StreamWriter] = []
    try:
        control = await _connect(state_dir, "wait")
        writers.append(control[1])
        out_r, out_w = await _connect(state_dir, "stdout")
        writers.append(out_w)
        err_r = None
        if not tty:
            err_r, err_w = await _connect(state_dir, "stderr")
            writers.append(err_w)
        in_w = None
        if stdin:
            _, in_w = await _connect(state_dir, "stdin")
            writers.append(in_w)
    except BaseException:
        for writer in writers:
            writer.close()
        raise
    return Attachment(state_dir, control, out_r, err_r, in_w, writers)
