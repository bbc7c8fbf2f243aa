"""What the kubelet does with its containers' files after they run: termination
messages (pkg/kubelet/kuberuntime/kuberuntime_container.go) and log rotation (the
container log manager, pkg/kubelet/logs).

- `termination_message(message_file, log_file, policy, exit_code)`: the content of
  the container's terminationMessagePath file (at most 4096 bytes); when that is empty,
  the policy is `FallbackToLogsOnError` and the container failed, the tail of its log
  instead (the last 80 lines, at most 2048 bytes). Missing files read as empty.
- `rotate_logs(runtime, clock)`: rotates the log of every running container that grew
  past 10 MiB (`logs.rotate_if_needed`, 5 files kept), asking the runtime to reopen it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from kybernetes.client import Clock

from .logs import parse_line, rotate_if_needed
from .runtime.interface import ContainerRuntimeError, ContainerState, NotFound, RuntimeService

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 4096
MAX_LOG_LINES = 80
MAX_LOG_BYTES = 2048


def _read_tail(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read(limit)
    except OSError:
        return b""


def log_tail(log_file: Path, lines: int = MAX_LOG_LINES, limit: int = MAX_LOG_BYTES) -> str:
    """The content of the last `lines` entries of a CRI log, cut to its last `limit` bytes."""
    raw = _read_tail(log_file, 64 * 1024).split(b"\n")
    content = bytearray()
    for line in raw[-lines - 1 :]:
        try:
            entry = parse_line(line)
        except ValueError:
            continue
        content += entry.content + (b"" if entry.partial else b"\n")
    return bytes(content[-limit:]).decode(errors="replace")


def termination_message(
    message_file: Path | None, log_file: Path | None, policy: str, exit_code: int
) -> str:
    """The message Kubernetes reports for a terminated container (module docstring)."""
    message = ""
    if message_file is not None:
        try:
            with message_file.open("rb") as f:
                message = f.read(MAX_MESSAGE_BYTES).decode(errors="replace")
        except OSError:
            message = ""
    if not message and policy == "FallbackToLogsOnError" and exit_code != 0 and log_file:
        message = log_tail(log_file)
    return message


async def rotate_logs(
    runtime: RuntimeService, clock: Clock, log_directories: dict[str, str]
) -> None:
    """Rotates the oversized logs of running containers. `log_directories` maps sandbox
    ids to their log directory (container log paths are relative to it)."""
    for container in await runtime.list_containers():
        directory = log_directories.get(container.sandbox_id)
        if container.state is not ContainerState.RUNNING or not container.log_path or not directory:
            continue
        path = os.path.join(directory, container.log_path)

        async def reopen(container_id: str = container.id) -> None:
            await runtime.reopen_container_log(container_id)

        try:
            await rotate_if_needed(path, reopen, clock)
        except (OSError, ContainerRuntimeError, NotFound) as e:
            log.warning("rotating %s: %s", path, e)
        await asyncio.sleep(0)
