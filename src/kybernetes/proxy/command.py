"""Running the packet-filter programs (`nft`, `iptables-restore`, ...) for the appliers.

`Runner` is how an applier executes a program: `runner(argv, stdin)` returns its
standard output or raises `CommandError` (with the program's stderr) when it exits
non-zero. `command_runner(prefix)` makes the real one; a prefix such as
`("ip", "netns", "exec", NAME)` runs the programs inside a network namespace (how the
tests and the benchmark keep every rule out of the host's namespace). Tests may pass
any other callable with the same contract.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

Runner = Callable[[Sequence[str], bytes], Awaitable[str]]


class CommandError(Exception):
    """A program exited non-zero (or could not be started)."""

    def __init__(self, argv: Sequence[str], code: int, stderr: str) -> None:
        super().__init__(f"{' '.join(argv)}: exit status {code}: {stderr.strip()}")
        self.argv = tuple(argv)
        self.code = code
        self.stderr = stderr


def command_runner(prefix: Sequence[str] = ()) -> Runner:
    """A `Runner` executing each command as `prefix + argv` (see module docstring)."""

    async def run(argv: Sequence[str], stdin: bytes = b"") -> str:
        full = [*prefix, *argv]
        try:
            process = await asyncio.create_subprocess_exec(
                *full,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as e:
            raise CommandError(full, -1, str(e)) from e
        out, err = await process.communicate(stdin)
        if process.returncode != 0:
            raise CommandError(full, process.returncode or -1, err.decode(errors="replace"))
        return out.decode(errors="replace")

    return run
