"""A fork server for container shims: starting a shim without starting a Python.

A container shim is a Python process; interpreter start-up and imports are most of a
container's start time and CPU. This server has them done once: it runs detached (own
session, re-parented to init), and for each request forks a child that runs exactly the
shim command line's `main` (which forks the shim itself into its own session and relays
its start report), so a shim started here is indistinguishable from one started by
`python -m kybernetes.kubelet.runtime.shim`, and outlives this server.

Command line: `python -m kybernetes.kubelet.runtime.shimserver --socket PATH [--idle S]`
returns once PATH accepts requests (exit status 0, also when a server already serves
PATH). The server exits after S seconds (default IDLE_SECONDS) without a request, or
once PATH is removed or replaced. It
records itself in PATH.pid (`PID STARTTIME`) and its diagnostics in PATH.log.

Protocol (unix socket, mode 0600): the client sends one line, a JSON list of the shim's
command-line arguments (`--state-dir DIR ... -- ARGV...`); the server answers `+` once it
has taken the request (so a client that got no `+` may safely start the shim another
way), then the shim's one-line start report, then closes.

Invariants: the server only forks and reaps; it never touches a shim after forking;
children inherit its environment (the kubelet's when it was started) and its working
directory `/`.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from contextlib import suppress

from . import shim
from .shimstate import bindable, proc_starttime, write_atomic

IDLE_SECONDS = 10.0
REQUEST_TIMEOUT = 5.0


def _reap() -> None:
    """Collects every child that has exited (the relays exit once they reported)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _handle(listener: socket.socket, conn: socket.socket) -> None:
    """Reads one request and forks its relay; the connection then belongs to the relay."""
    conn.settimeout(REQUEST_TIMEOUT)
    request = b""
    while not request.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            return
        request += chunk
    argv = json.loads(request)
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return
    conn.sendall(b"+")
    if os.fork() == 0:
        code = 1
        try:
            listener.close()
            os.dup2(conn.fileno(), 1)
            conn.close()
            code = shim.main(argv)
            sys.stdout.flush()
        finally:
            os._exit(code)


def _still_at(path: str, inode: int) -> bool:
    try:
        return os.stat(path).st_ino == inode
    except FileNotFoundError:
        return False


def serve(listener: socket.socket, path: str, idle: float) -> None:
    """Accepts requests until `idle` seconds pass without one."""
    listener.settimeout(min(1.0, idle))
    inode = os.stat(path).st_ino
    last = time.monotonic()
    while time.monotonic() - last < idle:
        _reap()
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if not _still_at(path, inode):
                break  # removed (with its runtime directory?) or replaced: nobody can reach us
            continue
        last = time.monotonic()
        with conn:
            try:
                _handle(listener, conn)
            except (OSError, ValueError) as e:
                print(f"shim server: bad request: {e}", file=sys.stderr, flush=True)
    if _still_at(path, inode):  # stop taking requests before the last ones finish
        os.unlink(path)
    with suppress(FileNotFoundError), open(f"{path}.pid") as record:
        if record.read().split()[:1] == [str(os.getpid())]:
            os.unlink(f"{path}.pid")
    listener.close()
    _reap()


def _bind(path: str) -> socket.socket | None:
    """A listening socket at `path`, or None when a live server already has it."""
    directory = os.open(os.path.dirname(path) or ".", os.O_PATH | os.O_DIRECTORY)
    try:
        address = bindable(path, directory)
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(address)
            return None
        except (FileNotFoundError, ConnectionRefusedError):
            if os.path.exists(path):
                os.unlink(path)  # a stale socket of a server that is gone
        finally:
            probe.close()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(address)
        finally:
            os.umask(old_umask)
        listener.listen(128)
        return listener
    finally:
        os.close(directory)


def main(argv: list[str]) -> int:
    """Binds, then detaches the server and returns (see the module docstring)."""
    if len(argv) not in (2, 4) or argv[0] != "--socket" or (len(argv) == 4 and argv[2] != "--idle"):
        print("usage: shimserver --socket PATH [--idle SECONDS]", file=sys.stderr)
        return 2
    path, idle = argv[1], float(argv[3]) if len(argv) == 4 else IDLE_SECONDS
    try:
        listener = _bind(path)
    except OSError as e:
        print(f"shim server: {e}", file=sys.stderr)
        return 1
    if listener is None:
        return 0
    if os.fork() == 0:
        os.setsid()
        os.chdir("/")
        null = os.open(os.devnull, os.O_RDWR)
        diag = os.open(f"{path}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        for fd, target in ((null, 0), (null, 1), (diag, 2)):
            os.dup2(fd, target)
        os.close(null)
        os.close(diag)
        me = os.getpid()
        write_atomic(f"{path}.pid", f"{me} {proc_starttime(me)}\n")
        code = 0
        try:
            serve(listener, path, idle)
        finally:
            os._exit(code)
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
