"""A `kyb server` with its local node for the pod end-to-end tests and the pod startup
benchmark, optionally inside a network namespace the test made.

`Netns()` is `ip netns add kybtest-<random>` with loopback up; commands enter it with
`nsenter --net=/run/netns/NAME` (NOT `ip netns exec`: that also unshares the mount
namespace and remounts /sys, hiding /sys/fs/cgroup from runc and the overlay and
namespace mounts from a restarted kubelet). `NodeServer` runs `kyb server` (API server,
scheduler, controllers, kubelet; no proxy or dns) on a free loopback port with the given
runtime and data dir, in the namespace if one is given; `kubectl()` runs there too.
`kill()` (SIGKILL) and `start()` again model a kubelet crash; `stop()` is SIGTERM and
must exit 0.

`call(fn)` runs Python code where the server is reachable (a thread that entered the
namespace with setns), e.g. the official client's `stream()` exec; `watch()` collects a
long-running kubectl's lines. `NetnsRegistry` serves a `LocalRegistry`'s storage from
inside the namespace. Pod helpers wait on conditions with deadlines (`wait_for`),
never blindly. What a node leaves behind is `leftovers.py`'s business.

Invariants: every process started here is stopped by the object that started it (also
when a test fails); the namespace is deleted by `Netns.delete()`, idempotently.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client, config

from tests.support.images import BUSYBOX_REF, build_image, write_docker_archive
from tests.support.registry import REGISTRY_BINARY, LocalRegistry

from .conftest import _wait_for_kubeconfig, free_port

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
KYB = (sys.executable, "-m", "kybernetes.cli.main")
Pod = dict[str, Any]


def wait_for(check: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Polls `check()` until it returns something truthy (returned), failing after
    `timeout` seconds with `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def oci_available() -> bool:
    """Root, runc, the CNI plugins, nsenter and ip: what the oci tests need."""
    return (
        os.geteuid() == 0
        and shutil.which("runc") is not None
        and shutil.which("nsenter") is not None
        and shutil.which("ip") is not None
        and Path("/usr/lib/cni/bridge").exists()
        and Path("/usr/lib/cni/host-local").exists()
    )


class Netns:
    """A network namespace of the test's own, named kybtest-<random>."""

    def __init__(self) -> None:
        self.name = f"kybtest-{secrets.token_hex(4)}"
        self.path = Path("/run/netns") / self.name

    def create(self) -> Netns:
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        try:
            subprocess.run(
                [*self.prefix(), "ip", "link", "set", "lo", "up"], check=True, capture_output=True
            )
        except BaseException:
            self.delete()
            raise
        return self

    def prefix(self) -> list[str]:
        """What runs a command inside the namespace (network only)."""
        return ["nsenter", f"--net={self.path}", "--"]

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()` in a thread of its own that entered the namespace (setns: network
        namespaces are per thread), so the sockets it makes live there."""
        outcome: list[Any] = []

        def run() -> None:
            try:
                with open(self.path) as f:
                    if _libc.setns(f.fileno(), CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns(CLONE_NEWNET)")
                outcome.append((True, fn()))
            except BaseException as e:  # re-raised in the caller
                outcome.append((False, e))

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        result: T = value
        return result

    def delete(self) -> None:
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)

    def exists(self) -> bool:
        return self.path.exists()


class NetnsRegistry:
    """A second docker-registry inside `netns`, serving the storage and config (so the
    same 127.0.0.1:PORT) of a started `tests.support.registry.LocalRegistry`: the
    node's network namespace cannot reach the host's loopback."""

    def __init__(self, registry: LocalRegistry, netns: Netns) -> None:
        self.host = registry.host
        self.netns = netns
        self.log = registry.dir / f"registry-{netns.name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*netns.prefix(), REGISTRY_BINARY, "serve", str(registry.dir / "config.yml")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(self._answers, "the registry in the namespace", timeout=20)
        except BaseException:
            self.stop()
            raise

    def _answers(self) -> bool:
        url = f"http://{self.host}/v2/"
        probe = [*self.netns.prefix(), "busybox", "wget", "-q", "-O", "/dev/null", url]
        return subprocess.run(probe, capture_output=True).returncode == 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def busybox_archive(directory: Path, name: str = BUSYBOX_REF) -> Path:
    """The busybox test image called `name` as a docker-archive tarball."""
    safe = name.replace("/", "_").replace(":", "_")
    return write_docker_archive(directory / f"{safe}.tar", build_image(name))


def import_image(data_dir: Path, archive: Path) -> None:
    """`kyb images import --data-dir DATA_DIR ARCHIVE` (the node's image store)."""
    subprocess.run(
        [*KYB, "images", "import", "--data-dir", str(data_dir), str(archive)],
        check=True,
        capture_output=True,
        timeout=120,
    )


class NodeServer:
    """`kyb server` with a local node on `runtime` (see module docstring)."""

    def __init__(
        self, data_dir: Path, runtime: str, netns: Netns | None = None, *flags: str
    ) -> None:
        self.data_dir = data_dir
        self.runtime = runtime
        self.netns = netns
        self.flags = flags
        self.port = free_port()
        self.kubelet_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.pod_uids: list[str] = []  # every pod created through this server (cleanup)
        self.kubeconfig = data_dir / "kubeconfig.yaml"

    def prefix(self) -> list[str]:
        return self.netns.prefix() if self.netns else []

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"server-{self.starts}.log"

    def start(self) -> NodeServer:
        """Starts the server and waits until its node is Ready."""
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    *self.prefix(),
                    *KYB,
                    "server",
                    *("--data-dir", str(self.data_dir), "--bind-address", "127.0.0.1"),
                    *("--https-listen-port", str(self.port), "--runtime", self.runtime),
                    *("--kubelet-port", str(self.kubelet_port), "--disable", "proxy,dns"),
                    *self.flags,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_for_kubeconfig(self.process, self.log_path)
        ready = "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}"
        wait_for(lambda: "True" in self.kubectl("get", "nodes", "-o", ready).stdout, "node Ready")
        return self

    def kubectl(
        self, *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """kubectl against this server (in its namespace); never raises on failure."""
        return subprocess.run(
            [
                *self.prefix(),
                "kubectl",
                "--kubeconfig",
                str(self.kubeconfig),
                *("--cache-dir", str(self.data_dir / "kubectl-cache"), *args),
            ],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        """kubectl that must succeed; its stdout."""
        result = self.kubectl(*args, stdin=stdin, timeout=timeout)
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
        return result.stdout

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """A long-running kubectl (port-forward, logs -f), output piped."""
        return subprocess.Popen(
            [*self.prefix(), "kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @contextlib.contextmanager
    def watch(self, *args: str) -> Iterator[list[str]]:
        """A long-running kubectl whose stdout lines (stripped) appear in the yielded
        list as they come (read by a thread); stopped when the block ends."""
        process = self.popen(*args)
        lines: list[str] = []

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line.strip())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            yield lines
        finally:
            process.terminate()
            process.wait(timeout=10)
            reader.join(timeout=10)

    def run(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Any command in the server's network (e.g. `busybox wget` to a forwarded port)."""
        return subprocess.run(
            [*self.prefix(), *argv], capture_output=True, text=True, timeout=timeout
        )

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()` where the server is reachable (in its namespace, if any)."""
        return self.netns.call(fn) if self.netns else fn()

    def api(self) -> client.CoreV1Api:
        """The official Python client for this server; use it inside `call`."""
        api_client = config.new_client_from_config(config_file=str(self.kubeconfig))  # type: ignore[no-untyped-call]
        return client.CoreV1Api(api_client)

    def kill(self) -> None:
        """SIGKILL, like a crash: containers and their shims stay."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM; the server must exit 0 (killed after 30 s otherwise)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("kyb server did not stop on SIGTERM") from None
        assert code == 0, self.log_path.read_text()[-4000:]

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    # --- pods ---------------------------------------------------------------------

    def apply(self, pod: Pod) -> None:
        self.ok("apply", "-f", "-", stdin=json.dumps(pod))

    def pod(self, name: str, namespace: str = "default") -> Pod | None:
        """The pod as the API has it, or None when it does not exist."""
        result = self.kubectl("get", "pod", name, "-n", namespace, "-o", "json")
        if result.returncode != 0:
            assert "NotFound" in result.stderr, result.stderr
            return None
        found: Pod = json.loads(result.stdout)
        return found

    def wait_pod(
        self, name: str, check: Callable[[Pod], bool], what: str, timeout: float = 60
    ) -> Pod:
        """The pod once `check(pod)` holds."""
        last: list[Pod | None] = [None]

        def probe() -> Pod | None:
            last[0] = self.pod(name)
            return last[0] if last[0] is not None and check(last[0]) else None

        try:
            return wait_for(probe, f"pod {name}: {what}", timeout)
        except AssertionError as e:
            status = json.dumps((last[0] or {}).get("status"), indent=1)[:3000]
            raise AssertionError(f"{e}\nlast status: {status}") from None

    def delete(self, name: str, timeout: float = 90) -> float:
        """Deletes pod `name` and waits until it is gone; the seconds that took."""
        started = time.monotonic()
        self.ok("delete", "pod", name, "--ignore-not-found", f"--timeout={timeout:.0f}s",
                timeout=timeout + 10)  # fmt: skip
        return time.monotonic() - started


def container(pod: Pod, name: str = "main") -> dict[str, Any]:
    """The status of container `name` ({} before the kubelet reported it)."""
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status["name"] == name:
            found: dict[str, Any] = status
            return found
    return {}


def condition(pod: Pod, kind: str) -> str:
    """The status ("True"/"False") of the pod's condition `kind`, "" when absent."""
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c["type"] == kind:
            return str(c["status"])
    return ""


def running(pod: Pod) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running"


def ready(pod: Pod) -> bool:
    return condition(pod, "Ready") == "True"


def pod_manifest(name: str, containers: Sequence[dict[str, Any]], **spec: Any) -> Pod:
    """A pod in `default` with a 2 s grace period unless `spec` says otherwise."""
    spec.setdefault("terminationGracePeriodSeconds", 2)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": list(containers), **spec},
    }


def busybox(name: str, script: str, image: str = BUSYBOX_REF, **fields: Any) -> dict[str, Any]:
    """A container running `busybox sh -c script` (busybox is on PATH for both the
    image and a host process)."""
    return {"name": name, "image": image, "command": ["busybox", "sh", "-c", script], **fields}
