"""The CRI-shaped contract between the kubelet and a container runtime.

Kubernetes' CRI (k8s.io/cri-api, runtime/v1) is the model: a `RuntimeService` for pod
sandboxes and containers and an `ImageService` for images. The kubelet owns pods;
a runtime owns only sandboxes, containers and images, identified by opaque ids it
hands out. Three implementations: `oci` (runc + CNI + overlayfs), `process` (host
processes, no isolation) and `simulated` (no processes).

Contracts shared by every implementation:
- Every method is safe to call concurrently for different ids; calls for the same id
  are serialised by the caller (the kubelet's pod worker).
- `stop_*` and `remove_*` are idempotent: a missing id is not an error.
- Any other call on an unknown id raises `NotFound`; a failure of the runtime itself
  raises `ContainerRuntimeError` with a message the kubelet shows in pod status.
- State survives a kubelet restart: a new runtime object on the same root directory
  lists the sandboxes and containers that were running, which are still running.
- Times are Unix nanoseconds, as in CRI; 0 means "not yet".
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class NotFound(LookupError):
    """No sandbox, container or image with that id or reference."""


class ContainerRuntimeError(Exception):
    """The runtime failed; `reason` is a Kubernetes waiting reason such as
    `CreateContainerError`, `RunContainerError`, `ErrImagePull`; str(e) is the message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class SandboxState(enum.Enum):
    READY = "SANDBOX_READY"
    NOTREADY = "SANDBOX_NOTREADY"


class ContainerState(enum.Enum):
    CREATED = "CONTAINER_CREATED"
    RUNNING = "CONTAINER_RUNNING"
    EXITED = "CONTAINER_EXITED"
    UNKNOWN = "CONTAINER_UNKNOWN"


@dataclass(frozen=True)
class PortMapping:
    """A hostPort: `host_port` on `host_ip` (all addresses when empty) forwarded to
    `container_port` in the sandbox; protocol TCP, UDP or SCTP."""

    container_port: int
    host_port: int
    protocol: str = "TCP"
    host_ip: str = ""


@dataclass(frozen=True)
class DNSConfig:
    """What the sandbox's /etc/resolv.conf says."""

    servers: Sequence[str] = ()
    searches: Sequence[str] = ()
    options: Sequence[str] = ()


@dataclass(frozen=True)
class PodSandboxConfig:
    """Everything a runtime needs to create a pod's sandbox (shared network, IPC and
    UTS namespaces). `log_directory` holds the pod's container logs
    (/var/log/pods/NS_NAME_UID in Kubernetes)."""

    name: str
    namespace: str
    uid: str
    attempt: int = 0
    hostname: str = ""
    log_directory: str = ""
    dns_config: DNSConfig | None = None
    port_mappings: Sequence[PortMapping] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    cgroup_parent: str = ""
    sysctls: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PodSandboxStatus:
    id: str
    config: PodSandboxConfig
    state: SandboxState
    created_at: int
    ip: str = ""
    additional_ips: Sequence[str] = ()


@dataclass(frozen=True)
class Mount:
    """A bind mount of `host_path` at `container_path`."""

    container_path: str
    host_path: str
    readonly: bool = False
    propagation: str = "private"  # private | rslave | rshared


@dataclass(frozen=True)
class LinuxResources:
    """cgroup settings. 0 means unset (no limit)."""

    cpu_period: int = 0
    cpu_quota: int = 0
    cpu_shares: int = 0
    memory_limit_in_bytes: int = 0
    oom_score_adj: int = 0


@dataclass(frozen=True)
class SecurityContext:
    run_as_user: int | None = None
    run_as_group: int | None = None
    supplemental_groups: Sequence[int] = ()
    privileged: bool = False
    readonly_rootfs: bool = False
    add_capabilities: Sequence[str] = ()
    drop_capabilities: Sequence[str] = ()
    no_new_privs: bool = False


@dataclass(frozen=True)
class ContainerConfig:
    """One container of a pod, already resolved by the kubelet: `command`/`args` with
    $(VAR) expanded, `envs` complete (env, envFrom, fieldRef, service links), image
    a reference the ImageService knows. `command` empty means the image's
    entrypoint; `args` empty means the image's cmd. `log_path` is relative to the
    sandbox's log_directory (NAME/RESTART.log)."""

    name: str
    image: str
    attempt: int = 0
    command: Sequence[str] = ()
    args: Sequence[str] = ()
    working_dir: str = ""
    envs: Sequence[tuple[str, str]] = ()
    mounts: Sequence[Mount] = ()
    log_path: str = ""
    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    resources: LinuxResources = field(default_factory=LinuxResources)
    security_context: SecurityContext = field(default_factory=SecurityContext)


@dataclass(frozen=True)
class ContainerStatus:
    """`reason` is set when a container exited: `Completed`, `Error` or `OOMKilled`;
    `message` carries the container's termination message when the kubelet read it."""

    id: str
    sandbox_id: str
    name: str
    attempt: int
    state: ContainerState
    created_at: int
    image: str
    image_ref: str
    started_at: int = 0
    finished_at: int = 0
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    log_path: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    stdout: bytes
    stderr: bytes


class StreamedProcess(Protocol):
    """A running exec or attach session. `stdin` is None unless asked for; with a
    TTY, stderr is merged into stdout and `stderr` is None."""

    stdin: asyncio.StreamWriter | None
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader | None

    def resize(self, width: int, height: int) -> None:
        """Sets the TTY's size; a no-op without a TTY."""

    async def wait(self) -> int:
        """Waits for the process (exec) or the container (attach) to end; its exit code."""

    async def kill(self) -> None:
        """Ends the session; the process too for exec. Idempotent."""


@dataclass(frozen=True)
class Image:
    """`id` is the image's config digest (sha256:…); `repo_tags` its references."""

    id: str
    repo_tags: Sequence[str]
    repo_digests: Sequence[str]
    size: int
    user: str = ""


@dataclass(frozen=True)
class AuthConfig:
    username: str = ""
    password: str = ""
    registry_token: str = ""


class RuntimeService(Protocol):
    """Pod sandboxes and containers (CRI RuntimeService)."""

    name: str  # "oci", "process" or "simulated"
    version: str  # shown in nodeInfo.containerRuntimeVersion as NAME://VERSION

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        """Creates and starts the sandbox (namespaces, network through CNI, hostPorts);
        returns its id. Raises ContainerRuntimeError (reason `CreatePodSandboxError`)."""

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        """Stops every container in it (SIGKILL) and tears its network down."""

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        """Removes the sandbox and its containers; every trace on the host goes."""

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus: ...

    async def list_pod_sandboxes(self) -> list[PodSandboxStatus]: ...

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str:
        """Creates (does not start) a container; returns its id. Raises ContainerRuntimeError
        (reason `CreateContainerError`) e.g. for an image without a command."""

    async def start_container(self, container_id: str) -> None:
        """Starts it. Raises ContainerRuntimeError (reason `StartError`, message such as
        `exec: "nope": executable file not found in $PATH`) when it cannot run."""

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        """SIGTERM (the image's stop signal), then SIGKILL after `grace_period` seconds;
        returns once it has exited."""

    async def remove_container(self, container_id: str) -> None: ...

    async def container_status(self, container_id: str) -> ContainerStatus: ...

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]: ...

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout_seconds: float
    ) -> ExecResult:
        """Runs `cmd` in the container (probes, hooks); running past `timeout_seconds`
        kills it and raises TimeoutError."""

    async def exec(
        self, container_id: str, cmd: Sequence[str], *, tty: bool, stdin: bool
    ) -> StreamedProcess:
        """Starts `cmd` in the container with its stdio streamed to the caller."""

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> StreamedProcess:
        """Streams the container's own stdio (stdin only if it was created with it)."""

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TCP connection to `port` inside the sandbox's network namespace."""

    async def reopen_container_log(self, container_id: str) -> None:
        """Makes the container write to a fresh log file (after rotation)."""


class ImageService(Protocol):
    """Images on this node (CRI ImageService)."""

    async def list_images(self) -> list[Image]: ...

    async def image_status(self, ref: str) -> Image | None:
        """The image that `ref` (name[:tag] or name@digest, normalised like docker:
        `busybox` is `docker.io/library/busybox:latest`) names here, or None."""

    async def pull_image(self, ref: str, auth: AuthConfig | None = None) -> str:
        """Pulls it and returns its id. Raises ContainerRuntimeError with reason `ErrImagePull`
        and the registry's own words (manifest unknown, unauthorized, connection
        refused)."""

    async def remove_image(self, ref: str) -> None: ...

    async def image_fs_usage(self) -> tuple[int, int]:
        """(bytes used by images, bytes of capacity) of the image filesystem."""
