"""The container shim: one small detached supervisor process per container (like conmon).

It is shared by the `process` runtime (ARGV is the container's own command) and the
`oci` runtime (ARGV is `runc run ...` in the foreground). Because it runs in its own
session and is re-parented to init, a container and its exit status survive the
kubelet being SIGKILLed. Clients use `shimclient` (asyncio). This module is the command
line; `shimloop` is the supervisor loop and `shimstate` the file and socket conventions
shared with clients. They import only light standard modules (no asyncio, argparse,
json or re) so that a shim starts in a few tens of ms.

Command line (all paths absolute)::

    python -m kybernetes.kubelet.runtime.shim --state-dir DIR [--log-path FILE]
        [--env-file FILE] [--cwd DIR] [--stdin [--stdin-once]] [--tty] -- ARGV...

- `--env-file`: NUL-separated `KEY=VALUE` entries; ARGV gets exactly these (without the
  option it inherits the shim's environment). A bare ARGV[0] is looked up in that PATH.
- `--log-path`: stdout and stderr are written there in the CRI log format (`logs.py`);
  with `--tty` everything is `stdout`. Without it output only goes to attached clients.
- `--stdin`: ARGV's stdin is kept open for attach clients (else /dev/null);
  `--stdin-once`: it is closed when the first attach client's stdin ends.
- `--tty`: ARGV runs on a new pseudo-terminal as its controlling terminal.

`shimserver.py` is a fork server that runs this same `main` in a forked child instead of
a new interpreter (`shimclient.launch(..., forkserver=PATH)`); the result is the same.

Start handshake: the launched process forks the shim (which calls setsid), waits for
it to start ARGV, prints ONE JSON line on stdout and exits: `{"pid": P, "shim_pid": S,
"started_at": NS}` with status 0, or `{"error": MESSAGE}` with status 1 when ARGV could
not be started (messages worded like runc: `exec: "nope": executable file not found in
$PATH`). The shim's own diagnostics go to DIR/shim.log.

Files in DIR (each written atomically: temp file + rename):
- `pid`: `PID STARTTIME` of ARGV; `shim.pid`: `PID STARTTIME` of the shim (STARTTIME
  is field 22 of /proc/PID/stat, so a recycled pid is never mistaken for ours);
- `started_at`: Unix ns; `exit` (once ARGV has exited and its output is drained):
  `{"exit_code": C, "signal": S, "finished_at": NS}`; C is 128+S when killed by signal S.
- `attach.sock`: the unix socket described below (removed when the shim ends).

Socket protocol: a client connects and sends one ASCII line; then:
- `stdout` / `stderr`: the shim streams that stream's raw bytes from now on and closes
  at its end (`stderr` closes at once with `--tty`).
- `stdin`: the client's bytes go to ARGV's stdin until the client closes its side.
- `wait`: the shim sends `exit CODE\\n` when ARGV has exited; meanwhile the client may
  send `resize COLS ROWS` lines (no reply).
- `signal N`, `reopen` (reopen the log file after rotation), `resize COLS ROWS`: one-shot
  commands answered with `ok\\n` or `error MESSAGE\\n`.

Invariants: signals go to ARGV's process group (ARGV is a session leader); when ARGV
exits the rest of its process group is SIGKILLed (like a PID namespace ending), output
is drained (at most DRAIN_SECONDS for escaped writers), partial lines are flushed as
`P` entries, then `exit` is written, then `wait` clients are told, then the shim exits.
Processes that leave the group (setsid daemons) are not tracked: there is no isolation.
"""

from __future__ import annotations

import os
import selectors
import signal
import sys
import time

from .shimloop import Shim
from .shimstate import proc_starttime, resolve_executable, socket_path, to_json, write_atomic

__all__ = ["proc_starttime", "resolve_executable", "socket_path"]


class Options:
    """The parsed command line (see the module docstring)."""

    VALUED = {"--state-dir": "state_dir", "--log-path": "log_path", "--env-file": "env_file",
              "--cwd": "cwd"}  # fmt: skip
    FLAGS = {"--stdin": "stdin", "--stdin-once": "stdin_once", "--tty": "tty"}

    def __init__(self, argv: list[str]) -> None:
        """Parses `argv`; raises ValueError on a usage error. (No argparse: it is slow
        to import, and the shim starts once per container.)"""
        self.state_dir = self.log_path = self.env_file = self.cwd = ""
        self.stdin = self.stdin_once = self.tty = False
        if "--" not in argv or argv.index("--") == len(argv) - 1:
            raise ValueError("ARGV is required after --")
        split = argv.index("--")
        self.command = argv[split + 1 :]
        options = iter(argv[:split])
        for option in options:
            name, has_value, value = option.partition("=")
            if name in self.FLAGS and not has_value:
                setattr(self, self.FLAGS[name], True)
            elif name in self.VALUED:
                setattr(self, self.VALUED[name], value if has_value else next(options, ""))
            else:
                raise ValueError(f"unknown option {option}")
        if not self.state_dir:
            raise ValueError("--state-dir is required")


def read_env(path: str) -> dict[str, str]:
    if not path:
        return dict(os.environ)
    with open(path, "rb") as f:
        entries = [e for e in f.read().split(b"\0") if e]
    env = {}
    for entry in entries:
        key, _, value = entry.decode(errors="surrogateescape").partition("=")
        env[key] = value
    return env


def run_shim(args: Options, report_fd: int) -> int:
    """The shim proper (in its own session): starts ARGV, reports, supervises."""
    null = os.open(os.devnull, os.O_RDWR)
    diag = os.open(
        os.path.join(args.state_dir, "shim.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
    )
    for fd, target in ((null, 0), (diag, 1), (diag, 2)):
        os.dup2(fd, target)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    shim = Shim(args, read_env(args.env_file))
    try:
        shim.start()
    except ValueError as e:
        os.write(report_fd, to_json({"error": str(e)}).encode())
        return 1
    started_at = time.time_ns()
    write_atomic(os.path.join(shim.dir, "pid"), f"{shim.pid} {proc_starttime(shim.pid)}\n")
    write_atomic(os.path.join(shim.dir, "started_at"), f"{started_at}\n")
    me = os.getpid()
    write_atomic(os.path.join(shim.dir, "shim.pid"), f"{me} {proc_starttime(me)}\n")
    shim.sel.register(wake_r, selectors.EVENT_READ, lambda _m: shim.on_signal(wake_r))
    listener = shim.listen()
    shim.reap()  # ARGV may have exited before SIGCHLD could wake us
    report = {"pid": shim.pid, "shim_pid": me, "started_at": started_at}
    os.write(report_fd, to_json(report).encode())
    os.close(report_fd)
    shim.serve(listener)
    return 0


def main(argv: list[str]) -> int:
    """Forks the shim into its own session and relays its start report (see docstring)."""
    try:
        args = Options(argv)
    except ValueError as e:
        sys.stdout.write(to_json({"error": f"container shim: {e}"}) + "\n")
        return 2
    os.makedirs(args.state_dir, exist_ok=True)
    if args.log_path:
        os.makedirs(os.path.dirname(args.log_path), exist_ok=True)
    report_r, report_w = os.pipe()
    if os.fork() == 0:
        os.close(report_r)
        os.setsid()
        code = 1
        try:
            code = run_shim(args, report_w)
        except BaseException:
            sys.excepthook(*sys.exc_info())
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(report_w)
    chunks = []
    while chunk := os.read(report_r, 65536):
        chunks.append(chunk)
    report = b"".join(chunks).decode() or to_json(
        {"error": f"container shim failed to start; see {args.state_dir}/shim.log"}
    )
    sys.stdout.write(report + "\n")
    return 1 if report.startswith('{"error"') else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
