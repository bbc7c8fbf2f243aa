"""Fixtures of the oci runtime's tests.

Real containers need root, runc, the CNI plugins and busybox-static; without them the
tests that ask for `oci` skip. Network safety: a test decorated with `in_netns` runs in
a forked child that first enters a NEW network namespace (unshare(CLONE_NEWNET)), so
the bridge, veths and iptables rules the CNI plugins make, and the shims the runtime
starts, all live in that namespace and never on the host; the namespace disappears with
the child and its shims. The `oci` fixture (in the parent) then removes whatever a
failed test left: runc containers, mounts, cgroups.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import os
import secrets
import shutil
import signal
import subprocess
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kybernetes.kubelet.images.archive import import_archive
from kybernetes.kubelet.images.store import ImageStore
from kybernetes.kubelet.runtime.interface import ContainerConfig, PodSandboxConfig
from kybernetes.kubelet.runtime.oci import OciRuntime, cgroups
from kybernetes.kubelet.runtime.oci.mounts import unmount_all
from tests.support.images import BUSYBOX_REF, build_image, busybox_available, write_docker_archive

CLONE_NEWNET = 0x40000000
# A second image (same layer): its config decides user, directory and command.
NOBODY_REF = "kyb.test/nobody:1"
NOBODY_CONFIG = {
    "User": "nobody",
    "WorkingDir": "/tmp",
    "Entrypoint": ["sh", "-c"],
    "Cmd": ["echo $(id -u):$(id -g) $PWD $MODE"],
    "Env": ["PATH=/bin", "MODE=image"],
    "StopSignal": "SIGUSR1",
}
REQUIREMENTS = (
    os.geteuid() == 0
    and shutil.which("runc") is not None
    and shutil.which("unshare") is not None
    and Path("/usr/lib/cni/bridge").exists()
    and busybox_available()
)


def in_netns(fn: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Runs the async test `fn` in a forked child inside a fresh network namespace
    (loopback up); the child's failure (with its traceback) fails the test."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            report = b"ok"
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.unshare(CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
                subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
                asyncio.run(fn(*args, **kwargs))
            except BaseException:
                report = traceback.format_exc().encode()
            finally:
                os.write(write_end, report)
                os._exit(0)
        os.close(write_end)
        chunks = []
        try:
            while chunk := os.read(read_end, 65536):
                chunks.append(chunk)
        finally:  # also when pytest-timeout interrupts us: the child must not linger
            os.close(read_end)
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        report = b"".join(chunks).decode()
        if report != "ok":
            pytest.fail(f"in the test's network namespace:\n{report}", pytrace=False)

    return wrapper


@dataclass
class OciEnv:
    """Where a test's runtime lives: its state root, the shared image store holding
    the busybox image, a cgroup root of its own and its pods' log directory."""

    root: Path
    images: Path
    cgroup_root: str
    logs: Path
    image: str = BUSYBOX_REF

    def runtime(self) -> OciRuntime:
        return OciRuntime(self.root, ImageStore(self.images), cgroup_root=self.cgroup_root)


@pytest.fixture(scope="session")
def busybox_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image store (shared by all tests, read-only to them) with the busybox image
    and NOBODY_REF."""
    if not REQUIREMENTS:
        pytest.skip("needs root, runc, unshare, the CNI plugins and busybox-static")
    base = tmp_path_factory.mktemp("images")
    store = ImageStore(base / "store")
    import_archive(store, write_docker_archive(base / "busybox.tar", build_image()))
    nobody = build_image(NOBODY_REF, config=NOBODY_CONFIG)
    import_archive(store, write_docker_archive(base / "nobody.tar", nobody))
    return base / "store"


@pytest.fixture
def oci(tmp_path: Path, busybox_store: Path) -> Iterator[OciEnv]:
    """A fresh runtime root; afterwards nothing the test made is left on the host."""
    env = OciEnv(
        root=tmp_path / "oci",
        images=busybox_store,
        cgroup_root=f"/kybtest-{secrets.token_hex(4)}",
        logs=tmp_path / "logs",
    )
    try:
        yield env
    finally:
        runc_root = env.root / "runc"
        if runc_root.is_dir():
            for entry in runc_root.iterdir():
                subprocess.run(
                    ["runc", "--root", str(runc_root), "delete", "--force", entry.name],
                    capture_output=True,
                )
        unmount_all(tmp_path)
        cgroups.remove_tree(env.cgroup_root)


def sandbox_config(name: str = "pod", **kw: Any) -> PodSandboxConfig:
    """A sandbox config for pod `name` in namespace `default` with a fresh uid."""
    return PodSandboxConfig(name=name, namespace="default", uid=secrets.token_hex(8), **kw)


def container_config(name: str, command: list[str], **kw: Any) -> ContainerConfig:
    """A container of the busybox image (or `image=`) logging to NAME/0.log."""
    kw.setdefault("image", BUSYBOX_REF)
    return ContainerConfig(name=name, command=tuple(command), log_path=f"{name}/0.log", **kw)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    """Waits until `check()` is true (polling), failing after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, f"condition not met within {seconds}s"
        await asyncio.sleep(0.02)
