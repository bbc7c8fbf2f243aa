"""`simulated`: a container runtime without processes, for kwok-style scale tests.

It implements `RuntimeService` and `ImageService` in memory:
- a sandbox gets the next free address of the node's pod CIDR (default
  10.42.0.0/24; the network and first addresses are skipped) and is READY at once;
- a started container becomes RUNNING after `start_delay` seconds of the injected
  clock (at once when 0) and then runs until it is stopped — or until a test ends it
  with `exit_container`;
- `exec_sync` succeeds (exit 0, no output) unless `exec_handler` says otherwise;
- every image pull succeeds unless its reference is in `failing_pulls`.

Invariants: ids are unique per runtime object; a stopped container keeps its status
until removed; removing a sandbox removes its containers and frees its address.
Statuses are immutable values replaced on each change, so listing is cheap (the
kubelet relists often). State lives in the object: a "restarted" kubelet keeps
seeing it only if it is handed the same runtime object. Methods never block.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace

from kybernetes import __version__
from kybernetes.client import Clock, SystemClock

from .interface import (
    AuthConfig,
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    ExecResult,
    Image,
    NotFound,
    PodSandboxConfig,
    PodSandboxStatus,
    SandboxState,
    StreamedProcess,
)

DEFAULT_POD_CIDR = "10.42.0.0/24"
ExecHandler = Callable[[ContainerStatus, Sequence[str]], ExecResult]


def normalize_image(ref: str) -> str:
    """docker's normalisation: `busybox` is `docker.io/library/busybox:latest`."""
    name, _, digest = ref.partition("@")
    first = name.split("/", 1)[0]
    if "/" not in name or not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}" if "/" in name else f"docker.io/library/{name}"
    if digest:
        return f"{name}@{digest}"
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


class SimulatedRuntime:
    """An in-memory RuntimeService + ImageService (see the module docstring)."""

    name = "simulated"
    version = __version__

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        pod_cidr: str = DEFAULT_POD_CIDR,
        start_delay: float = 0.0,
    ) -> None:
        self._clock = clock or SystemClock()
        self.start_delay = start_delay
        self.failing_pulls: dict[str, str] = {}
        self.exec_handler: ExecHandler | None = None
        self._ids = itertools.count(1)
        self._sandboxes: dict[str, PodSandboxStatus] = {}
        self._containers: dict[str, ContainerStatus] = {}
        self._images: dict[str, Image] = {}
        self._network = ipaddress.ip_network(pod_cidr, strict=False)
        self._hosts = self._network.hosts()
        next(self._hosts, None)  # the first address is the bridge's on a real node
        self._free: list[str] = []
        self._used: set[str] = set()

    def _new_id(self, kind: str) -> str:
        return hashlib.sha256(f"{kind}-{id(self)}-{next(self._ids)}".encode()).hexdigest()

    def _now_ns(self) -> int:
        return int(self._clock.wall().timestamp() * 1e9)

    def _allocate_ip(self) -> str:
        if self._free:
            ip = self._free.pop()
        else:
            try:
                ip = str(next(self._hosts))
            except StopIteration:
                raise ContainerRuntimeError(
                    "CreatePodSandboxError", f"no free address in {self._network}"
                ) from None
        self._used.add(ip)
        return ip

    # --- sandboxes ---------------------------------------------------------------

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        sandbox_id = self._new_id("sandbox")
        ip = "" if config.host_network else self._allocate_ip()
        self._sandboxes[sandbox_id] = PodSandboxStatus(
            sandbox_id, config, SandboxState.READY, self._now_ns(), ip
        )
        return sandbox_id

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return
        for container in self._in_sandbox(sandbox_id):
            self._exit(container.id, 137, "Error")
        self._sandboxes[sandbox_id] = replace(sandbox, state=SandboxState.NOTREADY)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandboxes.pop(sandbox_id, None)
        if sandbox is None:
            return
        for container in self._in_sandbox(sandbox_id):
            del self._containers[container.id]
        if sandbox.ip in self._used:
            self._used.discard(sandbox.ip)
            self._free.append(sandbox.ip)

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus:
        try:
            return self._sandboxes[sandbox_id]
        except KeyError:
            raise NotFound(sandbox_id) from None

    async def list_pod_sandboxes(self) -> list[PodSandboxStatus]:
        return list(self._sandboxes.values())

    def _in_sandbox(self, sandbox_id: str) -> list[ContainerStatus]:
        return [c for c in self._containers.values() if c.sandbox_id == sandbox_id]

    # --- containers --------------------------------------------------------------

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str:
        if sandbox_id not in self._sandboxes:
            raise NotFound(sandbox_id)
        image = self._images.get(normalize_image(config.image))
        container_id = self._new_id("container")
        self._containers[container_id] = ContainerStatus(
            id=container_id,
            sandbox_id=sandbox_id,
            name=config.name,
            attempt=config.attempt,
            state=ContainerState.CREATED,
            created_at=self._now_ns(),
            image=normalize_image(config.image),
            image_ref=image.id if image else "",
            log_path=config.log_path,
            labels=config.labels,
            annotations=config.annotations,
        )
        return container_id

    async def start_container(self, container_id: str) -> None:
        container = self._get(container_id)
        if container.state is not ContainerState.CREATED:
            raise ContainerRuntimeError("StartError", f"container {container_id} already started")
        if self.start_delay <= 0:
            self._run(container_id)
        else:
            self._clock.call_at(
                self._clock.now() + self.start_delay, lambda: self._run(container_id)
            )

    def _run(self, container_id: str) -> None:
        container = self._containers.get(container_id)
        if container is not None and container.state is ContainerState.CREATED:
            self._containers[container_id] = replace(
                container, state=ContainerState.RUNNING, started_at=self._now_ns()
            )

    def exit_container(self, container_id: str, exit_code: int, reason: str = "") -> None:
        """Ends a container as if its process exited (tests and scenario drivers).
        `reason` defaults to Completed for 0, else Error."""
        self._exit(container_id, exit_code, reason or ("Completed" if exit_code == 0 else "Error"))

    def _exit(self, container_id: str, exit_code: int, reason: str) -> None:
        container = self._get(container_id)
        if container.state in (ContainerState.EXITED, ContainerState.UNKNOWN):
            return
        now = self._now_ns()
        self._containers[container_id] = replace(
            container,
            state=ContainerState.EXITED,
            started_at=container.started_at or now,
            finished_at=now,
            exit_code=exit_code,
            reason=reason,
        )

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        if container_id in self._containers:
            running = self._containers[container_id].state is ContainerState.RUNNING
            # A simulated process honours SIGTERM at once: exit status 143 (128 + 15).
            self._exit(container_id, 143 if running else 137, "Error")

    async def remove_container(self, container_id: str) -> None:
        self._containers.pop(container_id, None)

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self._get(container_id)

    def _get(self, container_id: str) -> ContainerStatus:
        try:
            return self._containers[container_id]
        except KeyError:
            raise NotFound(container_id) from None

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        if sandbox_id is None:
            return list(self._containers.values())
        return self._in_sandbox(sandbox_id)

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout_seconds: float
    ) -> ExecResult:
        container = self._get(container_id)
        if container.state is not ContainerState.RUNNING:
            raise ContainerRuntimeError("ExecError", f"container {container_id} is not running")
        if self.exec_handler is not None:
            return self.exec_handler(container, cmd)
        return ExecResult(0, b"", b"")

    async def exec(
        self, container_id: str, cmd: Sequence[str], *, tty: bool, stdin: bool
    ) -> StreamedProcess:
        raise ContainerRuntimeError("ExecError", "the simulated runtime runs no processes")

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> StreamedProcess:
        raise ContainerRuntimeError("AttachError", "the simulated runtime runs no processes")

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        raise ContainerRuntimeError("PortForwardError", "the simulated runtime has no network")

    async def reopen_container_log(self, container_id: str) -> None:
        self._get(container_id)

    # --- images ------------------------------------------------------------------

    async def list_images(self) -> list[Image]:
        return list(self._images.values())

    async def image_status(self, ref: str) -> Image | None:
        return self._images.get(normalize_image(ref))

    async def pull_image(self, ref: str, auth: AuthConfig | None = None) -> str:
        name = normalize_image(ref)
        failure = self.failing_pulls.get(ref) or self.failing_pulls.get(name)
        if failure is not None:
            raise ContainerRuntimeError("ErrImagePull", failure)
        image = self._images.get(name)
        if image is None:
            digest = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
            image = self._images[name] = Image(digest, [name], [], 1_000_000)
        return image.id

    async def remove_image(self, ref: str) -> None:
        self._images.pop(normalize_image(ref), None)

    async def image_fs_usage(self) -> tuple[int, int]:
        return sum(i.size for i in self._images.values()), 100 * 2**30
