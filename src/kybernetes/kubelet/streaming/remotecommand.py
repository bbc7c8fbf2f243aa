"""exec and attach sessions, independent of the wire protocol that carries them.

`CommandStreams` are the streams a client opened (over SPDY streams or WebSocket
channels); `run_session` connects them to a runtime `StreamedProcess`:
stdin → the process (closed when the client ends stdin), the process's stdout and
stderr → the client (each half-closed at its end), resize events → `resize()`, and
once the process has ended and its output is flushed, the final Status on the error
stream. As the kubelet's `ServeExec`/`ServeAttach`: exit 0 (or an attach that ended)
is Success, a non-zero exit is NonZeroExitCode with an ExitCode cause, anything else
an InternalError.

Invariants: the session always ends the process's session (`kill()`, which for exec
also ends the process) even when the client vanished or the task was cancelled;
output the client did not ask for is still drained so the process never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kybernetes.kubelet.runtime.interface import StreamedProcess

from . import channels
from .streams import ByteSink, ByteSource, ReaderSource, copy, drain

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamOptions:
    """The query of an exec/attach request (`stdin=1&stdout=1&stderr=1&tty=1`)."""

    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool

    @classmethod
    def from_query(cls, query: Any) -> StreamOptions:
        """Raises ValueError when no stream is asked for. A TTY has no stderr."""
        tty = query.get("tty") == "1"
        options = cls(
            stdin=query.get("stdin") == "1",
            stdout=query.get("stdout") == "1",
            stderr=query.get("stderr") == "1" and not tty,
            tty=tty,
        )
        if not (options.stdin or options.stdout or options.stderr):
            raise ValueError("you must specify at least 1 of stdin, stdout, stderr")
        return options


@dataclass
class CommandStreams:
    """The client's side of a session. `json_status`: v4+ Status on the error stream."""

    error: ByteSink
    json_status: bool
    stdin: ByteSource | None = None
    stdout: ByteSink | None = None
    stderr: ByteSink | None = None
    resize: ByteSource | None = None


async def run_session(
    process: StreamedProcess, streams: CommandStreams, command: Sequence[str] | None
) -> None:
    """Runs the session to its end and writes the final Status. `command` is the exec'd
    argv (for the exit message), None for attach."""
    failure: BaseException | None = None
    code = 0
    try:
        try:
            code = await _pump(process, streams)
        except* (ConnectionError, OSError) as group:
            failure = group.exceptions[0]
    finally:
        with contextlib.suppress(Exception):
            await process.kill()
    status: dict[str, Any]
    if failure is not None:
        what = "executing command in" if command is not None else "attaching to"
        status = channels.internal_error_status(f"error {what} container: {failure}")
    elif code == 0 or command is None:
        status = channels.success_status()
    else:
        status = channels.exit_code_status(command, code)
    with contextlib.suppress(ConnectionError):
        payload = channels.status_bytes(status, as_json=streams.json_status)
        if payload:
            await streams.error.write(payload)
        await streams.error.close()


async def _pump(process: StreamedProcess, streams: CommandStreams) -> int:
    async with asyncio.TaskGroup() as tg:
        outputs = [
            tg.create_task(_output(ReaderSource(process.stdout), streams.stdout)),
        ]
        if process.stderr is not None:
            outputs.append(tg.create_task(_output(ReaderSource(process.stderr), streams.stderr)))
        inputs = []
        if streams.stdin is not None:
            inputs.append(tg.create_task(_input(streams.stdin, process.stdin)))
        if streams.resize is not None:
            inputs.append(tg.create_task(_resize(streams.resize, process)))
        code = await process.wait()
        await asyncio.gather(*outputs)
        for task in inputs:
            task.cancel()
    return code


async def _output(source: ByteSource, sink: ByteSink | None) -> None:
    if sink is None:
        await drain(source)
    else:
        await copy(source, sink)


async def _input(source: ByteSource, writer: asyncio.StreamWriter | None) -> None:
    """Client stdin → process stdin; closes the process's stdin when the client ends it."""
    if writer is None:
        await drain(source)
        return
    try:
        while data := await source.read():
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        await drain(source)  # the process closed its stdin: discard the rest
    finally:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            writer.close()


async def _resize(source: ByteSource, process: StreamedProcess) -> None:
    decoder = channels.ResizeDecoder()
    while data := await source.read():
        for width, height in decoder.feed(data):
            process.resize(width, height)


async def open_error_only(error: ByteSink, json_status: bool, message: str) -> None:
    """Reports a failure that happened before the session could start."""
    payload = channels.status_bytes(channels.internal_error_status(message), as_json=json_status)
    with contextlib.suppress(ConnectionError):
        await error.write(payload)
        await error.close()
