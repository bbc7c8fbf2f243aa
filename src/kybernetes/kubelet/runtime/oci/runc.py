"""The runc command line, with a private state root (`runc --root DIR`) so this runtime
never sees or touches other runc containers.

Containers run in the foreground under the shim (`run_argv`): runc relays the shim's
pipes to the container's, or, for a TTY container, the shim's pseudo-terminal to one
runc makes inside the container (process.terminal). With `--keep` (the
container and its cgroup stay, "stopped", after its process exits, until `delete`) and
`--pid-file` (written only once the container's process really started: its absence
after runc exited means the start failed; runc's error is then in the `--log` file).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

START_FAILURE_PREFIX = "unable to start container process: "


class RuncError(Exception):
    """runc failed; the message is runc's."""


class Runc:
    """runc on state root `root`."""

    def __init__(self, root: Path, binary: str = "runc") -> None:
        self.root = root
        self.binary = binary
        root.mkdir(parents=True, exist_ok=True)

    def run_argv(self, bundle: Path, container_id: str, pid_file: Path, log: Path) -> list[str]:
        """The foreground `runc run` that the shim supervises."""
        return [
            *self._base(),
            "--log",
            str(log),
            "--log-format",
            "json",
            "run",
            "--keep",
            "--pid-file",
            str(pid_file),
            "--bundle",
            str(bundle),
            container_id,
        ]

    def exec_argv(
        self, container_id: str, cmd: list[str], pid_file: Path, log: Path, tty: bool = False
    ) -> list[str]:
        """`runc exec` of `cmd` in the foreground: runc relays its own stdio to the
        process' pipes, or with `tty` to a terminal it makes in the container (its own
        stdin must then be a terminal, whose size it follows on SIGWINCH). Its errors
        go to `log`."""
        return [
            *self._base(),
            "--log",
            str(log),
            "--log-format",
            "json",
            "exec",
            *(["--tty"] if tty else []),
            "--pid-file",
            str(pid_file),
            container_id,
            *cmd,
        ]

    def _base(self) -> list[str]:
        return [self.binary, "--root", str(self.root)]

    async def _call(self, *args: str, check: bool = True) -> tuple[int, bytes]:
        proc = await asyncio.create_subprocess_exec(
            *self._base(),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        code = proc.returncode or 0
        if check and code != 0:
            raise RuncError(err.decode(errors="replace").strip())
        return code, out

    async def state(self, container_id: str) -> dict[str, Any] | None:
        """`runc state`, or None when runc has no such container."""
        code, out = await self._call("state", container_id, check=False)
        if code != 0:
            return None
        parsed: dict[str, Any] = json.loads(out)
        return parsed

    async def kill(self, container_id: str, signal: str) -> None:
        """Sends `signal` to the container's init; a container that is not running
        (or gone) is not an error."""
        await self._call("kill", container_id, signal, check=False)

    async def delete(self, container_id: str) -> None:
        """Deletes the container (killing it if it still runs). Idempotent."""
        code, _ = await self._call("delete", "--force", container_id, check=False)
        if code != 0 and await self.state(container_id) is not None:
            await self._call("delete", "--force", container_id)


def runc_version(binary: str = "runc") -> str:
    """runc's version, e.g. `1.1.5+ds1` ("unknown" when runc cannot say)."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    first = out.decode().splitlines()[0] if out else ""
    return first.removeprefix("runc version ").strip() or "unknown"


def start_error(log: Path) -> str:
    """runc's reason for failing to start a container, read from its `--log` file:
    the innermost message (`exec: "nope": executable file not found in $PATH`)."""
    message = ""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("error", "fatal"):
            message = str(entry.get("msg", ""))
    _, found, rest = message.partition(START_FAILURE_PREFIX)
    return rest if found else message or "container process failed to start"
