"""Launches real etcd processes on loopback for tests and benchmarks.

`EtcdCluster(size=N)` starts N members that listen only on 127.0.0.1, on free ports
picked at run time, with their data directories under one temporary directory.

Invariants:

- `start()` returns only once every member answers `/health` (the cluster has a leader
  and serves reads); it never sleeps blindly: it polls with a deadline and fails with
  the tail of the member's log when a member exits or the deadline passes.
- `stop()` (also run on leaving the `with` block, and by `start()` itself when it
  fails) kills every process it started and removes the temporary directory, so
  nothing is left behind even when a test fails.
- A killed member keeps its data directory; `restart(i)` brings it back with the same
  name, ports and data, as a crashed etcd would come back.

The methods are synchronous (they spawn processes and poll HTTP); async tests call
them directly since each returns within seconds, or through `asyncio.to_thread`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from types import TracebackType

ETCD_BINARY = "/usr/bin/etcd"
HOST = "127.0.0.1"


def etcd_available() -> bool:
    """Whether the etcd binary (Debian's etcd-server) is installed."""
    return os.access(ETCD_BINARY, os.X_OK)


class EtcdError(RuntimeError):
    """An etcd member failed to start or to become healthy."""


def _free_ports(count: int) -> list[int]:
    """Distinct ports that were free on loopback a moment ago (all bound at once)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class _Member:
    """One etcd member: its name, ports, data directory and (while running) process."""

    def __init__(self, name: str, client_port: int, peer_port: int, data_dir: Path) -> None:
        self.name = name
        self.client_port = client_port
        self.peer_port = peer_port
        self.data_dir = data_dir
        self.log_path = data_dir.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def client_url(self) -> str:
        return f"http://{HOST}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://{HOST}:{self.peer_port}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class EtcdCluster:
    """A throw-away etcd cluster of `size` members on loopback.

    Use as `with EtcdCluster(size=3, base_dir=tmp_path) as cluster:`; `endpoints` holds
    each member's client (host, port) and `endpoint_url` the matching
    `etcd://h:p,h:p,...` datastore endpoint. `base_dir` is where the temporary
    directory is made (default: the system's temp dir); it is removed by `stop()`.
    """

    def __init__(
        self,
        size: int = 1,
        *,
        base_dir: str | Path | None = None,
        start_timeout: float = 30.0,
        heartbeat_ms: int = 50,
        election_timeout_ms: int = 500,
    ) -> None:
        if size < 1:
            raise ValueError("an etcd cluster needs at least one member")
        self.size = size
        self.start_timeout = start_timeout
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._heartbeat_ms = heartbeat_ms
        self._election_timeout_ms = election_timeout_ms
        self._dir: Path | None = None
        self._members: list[_Member] = []

    # -- addresses -------------------------------------------------------------------

    @property
    def endpoints(self) -> list[tuple[str, int]]:
        """Each member's client address, in member order."""
        return [(HOST, m.client_port) for m in self._members]

    @property
    def endpoint_url(self) -> str:
        """The `--datastore-endpoint` naming every member: `etcd://h:p,h:p,...`."""
        return "etcd://" + ",".join(f"{h}:{p}" for h, p in self.endpoints)

    def member_url(self, i: int) -> str:
        """Member `i`'s `etcd://host:port` endpoint alone."""
        host, port = self.endpoints[i]
        return f"etcd://{host}:{port}"

    def pid(self, i: int) -> int | None:
        """Member `i`'s process id while it runs, else None."""
        p = self._members[i].process
        return p.pid if p is not None and p.poll() is None else None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Starts every member and waits until all are healthy; cleans up if that fails."""
        if self._members:
            raise EtcdError("cluster already started")
        # A picked port can be taken by another process before etcd binds it: retry
        # with fresh ports when that is why a member died.
        for attempt in range(3):
            try:
                self._start_once()
                return
            except EtcdError as e:
                self.stop()
                if "address already in use" not in str(e) or attempt == 2:
                    raise
            except BaseException:
                self.stop()
                raise

    def _start_once(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="etcd-", dir=self._base_dir))
        ports = _free_ports(2 * self.size)
        self._members = [
            _Member(f"m{i}", ports[2 * i], ports[2 * i + 1], self._dir / f"m{i}")
            for i in range(self.size)
        ]
        token = f"kyb-test-{uuid.uuid4().hex[:12]}"
        for m in self._members:
            self._spawn(m, state="new", token=token)
        deadline = time.monotonic() + self.start_timeout
        for m in self._members:
            self._wait_healthy(m, deadline)

    def stop(self) -> None:
        """Kills every member and removes the data directories. Idempotent."""
        for m in self._members:
            self._terminate(m)
        self._members = []
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def kill(self, i: int) -> None:
        """SIGKILLs member `i` (as a crash would) and reaps it; its data is kept."""
        m = self._members[i]
        if m.process is not None:
            m.process.kill()
            m.process.wait()
            m.process = None

    def restart(self, i: int, *, timeout: float | None = None) -> None:
        """Starts a killed member `i` again on its data and waits until it is healthy."""
        m = self._members[i]
        if m.process is not None and m.process.poll() is None:
            raise EtcdError(f"etcd member {m.name} is still running")
        self._spawn(m, state="existing", token="")
        self._wait_healthy(m, time.monotonic() + (timeout or self.start_timeout))

    def freeze(self, i: int) -> None:
        """SIGSTOPs member `i`: it keeps its connections open but never answers (a hang)."""
        self._signal(i, signal.SIGSTOP)

    def thaw(self, i: int) -> None:
        """SIGCONTs a frozen member `i`."""
        self._signal(i, signal.SIGCONT)

    def healthy(self, i: int) -> bool:
        """Whether member `i` answers `/health` with a leader right now."""
        return self._probe(self._members[i])

    def __enter__(self) -> EtcdCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------

    def _spawn(self, m: _Member, *, state: str, token: str) -> None:
        initial_cluster = ",".join(f"{x.name}={x.peer_url}" for x in self._members)
        args = [
            ETCD_BINARY,
            f"--name={m.name}",
            f"--data-dir={m.data_dir}",
            f"--listen-client-urls={m.client_url}",
            f"--advertise-client-urls={m.client_url}",
            f"--listen-peer-urls={m.peer_url}",
            f"--initial-advertise-peer-urls={m.peer_url}",
            f"--initial-cluster={initial_cluster}",
            f"--initial-cluster-state={state}",
            f"--heartbeat-interval={self._heartbeat_ms}",
            f"--election-timeout={self._election_timeout_ms}",
            "--logger=zap",
            "--log-outputs=stderr",
        ]
        if token:
            args.append(f"--initial-cluster-token={token}")
        # etcd also reads ETCD_* variables; keep the caller's from leaking in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCD")}
        with open(m.log_path, "ab") as log:
            m.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )

    def _signal(self, i: int, signum: int) -> None:
        p = self._members[i].process
        if p is None or p.poll() is not None:
            raise EtcdError(f"etcd member {self._members[i].name} is not running")
        p.send_signal(signum)

    def _probe(self, m: _Member) -> bool:
        try:
            with urllib.request.urlopen(f"{m.client_url}/health", timeout=1.0) as r:
                return b'"true"' in r.read()
        except (OSError, urllib.error.URLError):
            return False

    def _wait_healthy(self, m: _Member, deadline: float) -> None:
        while True:
            if m.process is None or m.process.poll() is not None:
                code = m.process.returncode if m.process else None
                raise EtcdError(f"etcd member {m.name} exited ({code}):\n{m.log_tail()}")
            if self._probe(m):
                return
            if time.monotonic() > deadline:
                raise EtcdError(f"etcd member {m.name} not healthy in time:\n{m.log_tail()}")
            time.sleep(0.02)  # polling interval of a condition with a deadline

    def _terminate(self, m: _Member) -> None:
        p, m.process = m.process, None
        if p is None or p.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
