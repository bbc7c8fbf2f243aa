"""The container shim's supervisor loop (see `shim.py` for the contract it serves):
one thread, `selectors` over ARGV's output, the attach socket and its clients, and a
signal wakeup pipe. Invariants: output reaches the log and every subscribed client in
read order; a client more than MAX_CLIENT_BUFFER behind is dropped rather than stalling
the container; the `exit` record is written before `wait` clients hear of the exit.
"""

from __future__ import annotations

import errno
import fcntl
import os
import selectors
import signal
import socket
import struct
import sys
import termios
import time
from collections.abc import Callable
from contextlib import suppress

from kybernetes.kubelet.logformat import CriLogWriter

from .shimstate import bindable, resolve_executable, socket_path, to_json, write_atomic

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the shim ~10 ms
if TYPE_CHECKING:
    from typing import Protocol

    class ShimOptions(Protocol):
        state_dir: str
        log_path: str
        cwd: str
        stdin: bool
        stdin_once: bool
        tty: bool
        command: list[str]


DRAIN_SECONDS = 1.0
MAX_CLIENT_BUFFER = 4 << 20
READ_SIZE = 65536


class Shim:
    """The supervisor's event loop (single-threaded, selectors)."""

    def __init__(self, args: ShimOptions, env: dict[str, str]) -> None:
        self.dir = args.state_dir
        self.tty: bool = args.tty
        self.stdin_once: bool = args.stdin_once
        self.argv = args.command
        self.env = env
        self.cwd: str = args.cwd or os.getcwd()
        self.log = CriLogWriter(args.log_path) if args.log_path else None
        self.sel = selectors.DefaultSelector()
        self.pid = 0
        self.status: int | None = None
        self.master = -1  # pty master (tty) — both output and input
        self.outputs: dict[int, str] = {}  # fd -> "stdout" | "stderr"
        self.stdin_fd = -1
        self.want_stdin: bool = args.stdin
        self.stdin_buf = bytearray()
        self.paused: dict[socket.socket, Callable[[int], None]] = {}  # stdin clients
        self.stdin_close_pending = False
        self.streams: dict[str, list[socket.socket]] = {"stdout": [], "stderr": []}
        self.out_bufs: dict[socket.socket, bytearray] = {}
        self.waiters: list[socket.socket] = []
        self.dir_fd = os.open(self.dir, os.O_PATH | os.O_DIRECTORY)

    # -- start ---------------------------------------------------------------------

    def start(self) -> None:
        """Starts ARGV; raises ValueError (runc-worded) when it cannot be executed."""
        if not os.path.isdir(self.cwd):
            raise ValueError(f'chdir to cwd ("{self.cwd}") failed: no such file or directory')
        path = resolve_executable(self.argv[0], self.env, self.cwd)
        if self.tty:
            self.master, slave = os.openpty()
            stdin_src = slave if self.want_stdin else os.open(os.devnull, os.O_RDONLY)
            child_fds = (stdin_src, slave, slave)
            self.outputs[self.master] = "stdout"
            if self.want_stdin:
                self.stdin_fd = os.dup(self.master)  # its own fd, to poll writability apart
        else:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            if self.want_stdin:
                in_r, self.stdin_fd = os.pipe()
            else:
                in_r = os.open(os.devnull, os.O_RDONLY)
            child_fds = (in_r, out_w, err_w)
            self.outputs = {out_r: "stdout", err_r: "stderr"}
        err_r2, err_w2 = os.pipe()
        pid = os.fork()
        if pid == 0:  # the container process
            code = str(errno.EIO).encode()
            try:
                os.setsid()
                if self.tty:
                    fcntl.ioctl(child_fds[1], termios.TIOCSCTTY, 0)
                for target, fd in enumerate(child_fds):
                    os.dup2(fd, target)
                for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGHUP):
                    signal.signal(sig, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, set())
                os.chdir(self.cwd)
                os.execve(path, self.argv, self.env)
            except OSError as e:
                code = str(e.errno).encode()
            finally:
                os.write(err_w2, code)
                os._exit(127)
        self.pid = pid
        os.close(err_w2)
        for fd in set(child_fds):
            os.close(fd)
        failure = os.read(err_r2, 64)
        os.close(err_r2)
        if failure:
            os.waitpid(pid, 0)
            raise ValueError(f'exec: "{self.argv[0]}": {os.strerror(int(failure)).lower()}')
        for fd in (*self.outputs, *([self.stdin_fd] if self.stdin_fd >= 0 else [])):
            os.set_blocking(fd, False)
        for fd in self.outputs:
            self.sel.register(fd, selectors.EVENT_READ, lambda _m, fd=fd: self.on_output(fd))

    # -- event loop ----------------------------------------------------------------

    def listen(self) -> socket.socket:
        """Binds the attach socket (before the start is reported, so clients find it)."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with suppress(FileNotFoundError):
            os.unlink(socket_path(self.dir))
        listener.bind(bindable(socket_path(self.dir), self.dir_fd))
        os.chmod(socket_path(self.dir), 0o600)
        listener.listen(64)
        listener.setblocking(False)
        self.sel.register(listener, selectors.EVENT_READ, lambda _m: self.on_accept(listener))
        return listener

    def serve(self, listener: socket.socket) -> None:
        """Runs until ARGV has exited and everything is reported."""
        drain_deadline: float | None = None
        while self.outputs or self.status is None:
            timeout = (
                None if drain_deadline is None else max(0.0, drain_deadline - time.monotonic())
            )
            for key, mask in self.sel.select(timeout):
                callback: Callable[[int], None] = key.data
                callback(mask)
            if self.status is not None and drain_deadline is None:
                drain_deadline = time.monotonic() + DRAIN_SECONDS
            if drain_deadline is not None and time.monotonic() >= drain_deadline:
                for fd in list(self.outputs):
                    self.close_output(fd)
        self.finish(listener)

    def on_signal(self, fd: int) -> None:
        with suppress(BlockingIOError):
            for signum in os.read(fd, 256):
                if signum == signal.SIGCHLD:
                    self.reap()
                else:  # SIGTERM/SIGINT sent to the shim: forward them
                    self.kill(signum)

    def reap(self) -> None:
        if self.status is not None:
            return
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return
        self.status = status
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def kill(self, signum: int) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

    # -- output --------------------------------------------------------------------

    def on_output(self, fd: int) -> None:
        stream = self.outputs[fd]
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: the pty's last slave closed
            data = b""
        if not data:
            self.close_output(fd)
            return
        self.log_call(lambda log: log.write(stream, data, time.time_ns()))
        for client in list(self.streams[stream]):
            self.send(client, data)

    def close_output(self, fd: int) -> None:
        stream = self.outputs.pop(fd)
        self.sel.unregister(fd)
        os.close(fd)
        if fd == self.master:
            self.master = -1
        self.log_call(lambda log: log.flush(stream, time.time_ns()))
        for client in list(self.streams[stream]):
            self.drop(client)

    def log_call(self, action: Callable[[CriLogWriter], None]) -> None:
        """Runs a log write; a full disk must not kill the container's supervisor."""
        if self.log is None:
            return
        try:
            action(self.log)
        except OSError as e:
            print(f"log write failed: {e}", file=sys.stderr, flush=True)

    # -- clients -------------------------------------------------------------------

    def on_accept(self, listener: socket.socket) -> None:
        with suppress(BlockingIOError):
            client, _ = listener.accept()
            client.setblocking(False)
            self.sel.register(client, selectors.EVENT_READ, self.handler(client))

    def handler(self, client: socket.socket) -> Callable[[int], None]:
        """The event handler of a new connection: its first line chooses its mode."""
        pending = bytearray()
        mode = ""

        def on_event(mask: int) -> None:
            nonlocal mode
            if mask & selectors.EVENT_WRITE:
                self.flush_client(client)
            if not mask & selectors.EVENT_READ or client.fileno() < 0:
                return
            try:
                data = client.recv(READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if mode == "stdin":
                self.feed_stdin(client, data)
                return
            if not data:
                self.drop(client)
                return
            pending.extend(data)
            while b"\n" in pending and mode not in ("stdin", "done"):
                line, _, rest = bytes(pending).partition(b"\n")
                pending[:] = rest
                mode = self.command(client, line.decode(errors="replace").split(), mode)
            if mode == "stdin" and pending:
                self.feed_stdin(client, bytes(pending))
                pending.clear()

        return on_event

    def command(self, client: socket.socket, words: list[str], mode: str) -> str:
        """Handles one request line; returns the connection's mode afterwards."""
        verb = words[0] if words else ""
        if mode == "" and verb in self.streams:
            if verb not in self.outputs.values():  # ended, or stderr with a tty
                self.drop(client)
            else:
                self.streams[verb].append(client)
            return verb
        if mode == "" and verb == "stdin":
            if self.stdin_fd < 0 or self.stdin_close_pending:
                self.drop(client)
            return "stdin"
        if mode == "" and verb == "wait":
            self.waiters.append(client)
            return "wait"
        try:
            if verb == "signal" and len(words) == 2:
                self.kill(int(words[1]))
            elif verb == "reopen":
                if self.log is not None:
                    self.log.reopen()
            elif verb == "resize" and len(words) == 3:
                if self.master >= 0:
                    size = struct.pack("HHHH", int(words[2]), int(words[1]), 0, 0)
                    fcntl.ioctl(self.master, termios.TIOCSWINSZ, size)
            else:
                raise ValueError(f"unknown request {' '.join(words)!r}")
            reply = b"ok\n"
        except (OSError, ValueError) as e:
            reply = f"error {e}\n".encode()
        if mode == "wait":
            return mode
        self.send(client, reply)
        self.drop(client, flush=True)
        return "done"

    def feed_stdin(self, client: socket.socket, data: bytes) -> None:
        if not data:
            self.drop(client)
            if self.stdin_once:
                self.stdin_close_pending = True
                self.flush_stdin()
            return
        if self.stdin_fd >= 0 and not self.stdin_close_pending:
            self.stdin_buf.extend(data)
            self.flush_stdin()
            if len(self.stdin_buf) > MAX_CLIENT_BUFFER:  # back-pressure: stop reading it
                self.paused[client] = self.sel.unregister(client).data

    def flush_stdin(self, _mask: int = 0) -> None:
        """Writes what it can of the stdin buffer; closes stdin once asked and empty."""
        if self.stdin_fd < 0:
            return
        try:
            while self.stdin_buf:
                del self.stdin_buf[: os.write(self.stdin_fd, self.stdin_buf)]
        except BlockingIOError:
            pass
        except OSError:  # the container closed its stdin
            self.stdin_buf.clear()
        registered = self.stdin_fd in self.sel.get_map()
        if self.stdin_buf and not registered:
            self.sel.register(self.stdin_fd, selectors.EVENT_WRITE, self.flush_stdin)
        elif not self.stdin_buf and registered:
            self.sel.unregister(self.stdin_fd)
        if len(self.stdin_buf) <= MAX_CLIENT_BUFFER:
            for client, on_event in self.paused.items():
                self.sel.register(client, selectors.EVENT_READ, on_event)
            self.paused.clear()
        if not self.stdin_buf and self.stdin_close_pending:
            os.close(self.stdin_fd)
            self.stdin_fd = -1

    def send(self, client: socket.socket, data: bytes) -> None:
        """Queues `data` for `client`; a client that falls too far behind is dropped."""
        buf = self.out_bufs.setdefault(client, bytearray())
        buf.extend(data)
        if len(buf) > MAX_CLIENT_BUFFER:
            self.drop(client)
            return
        self.flush_client(client)

    def flush_client(self, client: socket.socket) -> None:
        buf = self.out_bufs.get(client)
        if buf is None:
            return
        try:
            while buf:
                del buf[: client.send(buf)]
        except BlockingIOError:
            pass
        except OSError:
            self.drop(client)
            return
        key = self.sel.get_map().get(client.fileno())
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if buf else 0)
        if key is not None and key.events != events:
            self.sel.modify(client, events, key.data)

    def drop(self, client: socket.socket, flush: bool = False) -> None:
        """Closes a client (after a best-effort flush of what is queued for it)."""
        if flush:
            with suppress(OSError):
                client.setblocking(True)
                client.settimeout(1.0)
                client.sendall(self.out_bufs.get(client, b""))
        if client.fileno() >= 0 and client.fileno() in self.sel.get_map():
            self.sel.unregister(client)
        for clients in (*self.streams.values(), self.waiters):
            if client in clients:
                clients.remove(client)
        self.out_bufs.pop(client, None)
        self.paused.pop(client, None)
        client.close()

    # -- end -----------------------------------------------------------------------

    def finish(self, listener: socket.socket) -> None:
        """Records the exit, tells the waiters, and closes everything."""
        assert self.status is not None
        code = os.waitstatus_to_exitcode(self.status)
        sig = -code if code < 0 else 0
        exit_code = 128 + sig if sig else code
        record = {"exit_code": exit_code, "signal": sig, "finished_at": time.time_ns()}
        write_atomic(os.path.join(self.dir, "exit"), to_json(record))
        if self.log is not None:
            self.log.close()
        with suppress(FileNotFoundError):
            os.unlink(socket_path(self.dir))
        listener.close()
        for client in list(self.waiters):
            self.send(client, f"exit {exit_code}\n".encode())
            self.drop(client, flush=True)
