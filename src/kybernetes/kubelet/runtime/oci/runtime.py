"""`OciRuntime`: the CRI-shaped RuntimeService on runc, CNI and overlayfs.

State lives under ROOT (DATA_DIR/runtime/oci): `sandboxes/ID/` (record, pinned
namespaces `ns/`, files `files/` with the pod's /dev/shm), `containers/ID/` (record,
bundle, overlay layers, the shim's `shim/` dir, runc's pid file and log), `runc/`
(runc's private state root), `cni/` (conf dir and host-local's allocations). Nothing is
held only in memory, so a new OciRuntime on the same ROOT sees the same sandboxes and
containers, and never disturbs them.

A sandbox is READY from a successful run_pod_sandbox until it is stopped, or until its
pinned namespaces are gone (the host rebooted). A container is CREATED once its bundle
exists; RUNNING once its shim started `runc run` and runc wrote its pid file; EXITED
once the shim recorded its exit (reason OOMKilled when its memory cgroup counted an OOM
kill, else Completed or Error; StartError with exit code 128 when runc could not start
it); UNKNOWN when the shim vanished without recording an exit (and runc is gone too).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from pathlib import Path

from kybernetes.client.clock import Clock, SystemClock
from kybernetes.kubelet.runtime import hostexec, shimclient
from kybernetes.kubelet.runtime.interface import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    ExecResult,
    NotFound,
    PodSandboxConfig,
    PodSandboxStatus,
    SandboxState,
    StreamedProcess,
)
from kybernetes.kubelet.runtime.oci import cgroups, namespaces, streams
from kybernetes.kubelet.runtime.oci.bundle import create_bundle, destroy_bundle
from kybernetes.kubelet.runtime.oci.cni import DEFAULT_BIN_DIR, DEFAULT_POD_CIDR, Cni
from kybernetes.kubelet.runtime.oci.images import ImageSource
from kybernetes.kubelet.runtime.oci.mounts import mount_points
from kybernetes.kubelet.runtime.oci.runc import Runc, RuncError, runc_version, start_error
from kybernetes.kubelet.runtime.oci.sandboxes import Sandboxes
from kybernetes.kubelet.runtime.oci.state import ContainerRecord, Records

START_TIMEOUT = 60.0
KILL_TIMEOUT = 30.0


class OciRuntime:
    """Real containers: runc, pinned namespaces, CNI and overlayfs (see module doc)."""

    name = "oci"

    def __init__(
        self,
        root: Path,
        images: ImageSource,
        *,
        pod_cidr: str = DEFAULT_POD_CIDR,
        cni_bin_dir: Path = DEFAULT_BIN_DIR,
        cni_conf_dir: Path | None = None,
        cgroup_root: str = "/kubepods",
        runc_binary: str = "runc",
        clock: Clock | None = None,
    ) -> None:
        self.root = Path(root)
        self.images = images
        self.clock: Clock = clock or SystemClock()
        self.records = Records(self.root)
        self.runc = Runc(self.root / "runc", runc_binary)
        self.version = runc_version(runc_binary)
        cni_dir = self.root / "cni"
        cni = Cni(cni_conf_dir or cni_dir / "net.d", cni_bin_dir, pod_cidr, cni_dir / "networks")
        self.sandboxes = Sandboxes(self.records, cni, cgroup_root)

    def _now(self) -> int:
        return int(self.clock.wall().timestamp() * 1e9)

    def _image_ref(self, image_id: str) -> str:
        """A container's image_ref (the pod's imageID): the image's first repo digest
        (REPO@sha256:…) as containerd reports it, else the image id."""
        record = self.images.get(image_id)
        digests = record.repo_digests if record is not None else ()
        return digests[0] if digests else image_id

    # ---- sandboxes -----------------------------------------------------------------

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        return await self.sandboxes.run(config, self._now())

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            record = self.records.sandbox(sandbox_id)
        except NotFound:
            return
        async with asyncio.TaskGroup() as tg:
            for c in await self.list_containers(sandbox_id):
                tg.create_task(self.stop_container(c.id, 0))
        await self.sandboxes.stop(record)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            record = self.records.sandbox(sandbox_id)
        except NotFound:
            return
        async with asyncio.TaskGroup() as tg:
            for c in await self.list_containers(sandbox_id):
                tg.create_task(self.remove_container(c.id))
        await self.sandboxes.remove(record)

    def _sandbox_status(self, sandbox_id: str, mounted: set[str]) -> PodSandboxStatus:
        r = self.records.sandbox(sandbox_id)
        ready = r.ready and self.sandboxes.pinned(r, mounted)
        state = SandboxState.READY if ready else SandboxState.NOTREADY
        return PodSandboxStatus(r.id, r.config, state, r.created_at, r.ip, tuple(r.additional_ips))

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus:
        return self._sandbox_status(sandbox_id, set(mount_points()))

    async def list_pod_sandboxes(self) -> list[PodSandboxStatus]:
        out = []
        mounted = set(mount_points())
        for sandbox_id in self.records.sandbox_ids():
            try:
                out.append(self._sandbox_status(sandbox_id, mounted))
            except NotFound:  # removed meanwhile
                continue
        return out

    # ---- containers ----------------------------------------------------------------

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str:
        sandbox = self.records.sandbox(sandbox_id)
        image_id = self.images.resolve(config.image)
        if image_id is None:
            raise ContainerRuntimeError("CreateContainerError", f"image {config.image!r} not found")
        image = self.images.config(image_id)
        container_id = secrets.token_hex(32)
        sc = sandbox.config
        log_path = ""
        if sc.log_directory and config.log_path:
            log_path = str(Path(sc.log_directory) / config.log_path)
        record = ContainerRecord(
            id=container_id,
            sandbox_id=sandbox_id,
            config=config,
            created_at=self._now(),
            image=config.image,
            image_ref=self._image_ref(image_id),
            log_path=log_path,
            stop_signal=str(image.get("StopSignal") or "SIGTERM"),
            cgroups_path=f"{self.sandboxes.pod_cgroup(sc)}/{container_id}",
        )
        d = self.records.container_dir(container_id)
        d.mkdir(parents=True)
        self.records.save(record)  # first: a crash below leaves a container to remove
        try:
            layers = self.images.layer_paths(image_id)
            view = self.sandboxes.view(sandbox)
            create_bundle(d, config, image, layers, view, record.cgroups_path)
        except Exception as e:
            destroy_bundle(d)
            raise ContainerRuntimeError("CreateContainerError", str(e)) from e
        return container_id

    async def start_container(self, container_id: str) -> None:
        record = self.records.container(container_id)
        d = self.records.container_dir(container_id)
        shim_dir = d / "shim"
        if shimclient.read_state(shim_dir).started_at:
            raise ContainerRuntimeError("StartError", f"container {container_id} already started")
        pid_file, runc_log = d / "runc.pid", d / "runc.log"
        argv = self.runc.run_argv(d / "bundle", container_id, pid_file, runc_log)
        c = record.config
        if record.log_path:
            Path(record.log_path).parent.mkdir(parents=True, exist_ok=True)
        try:
            await shimclient.launch(
                shim_dir,
                argv,
                log_path=record.log_path,
                cwd=str(d / "bundle"),
                stdin=c.stdin or c.tty,  # runc's terminal relay needs a terminal stdin
                stdin_once=c.stdin_once,
                tty=c.tty,
            )
        except shimclient.ShimStartError as e:
            raise ContainerRuntimeError("StartError", str(e)) from e
        deadline = self.clock.now() + START_TIMEOUT
        while not pid_file.exists():  # runc writes it once the process really started
            if shimclient.read_state(shim_dir).exit is not None and not pid_file.exists():
                raise ContainerRuntimeError("StartError", start_error(runc_log))
            if self.clock.now() > deadline:
                raise ContainerRuntimeError("StartError", "timed out waiting for runc")
            await asyncio.sleep(0.002)

    async def _wait_exit(self, shim_dir: Path, seconds: float) -> bool:
        """Whether the container's exit was recorded within `seconds`."""
        try:
            await hostexec.within(shimclient.wait_exit(shim_dir), self.clock, seconds)
        except (TimeoutError, shimclient.ShimGone):
            return shimclient.read_state(shim_dir).exit is not None
        return True

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        try:
            record = self.records.container(container_id)
        except NotFound:
            return
        shim_dir = self.records.container_dir(container_id) / "shim"
        shim = shimclient.read_state(shim_dir)
        if not shim.started_at or shim.exit is not None:
            return
        if not shim.shim_alive:  # nothing will record the exit; just make sure it ends
            await self.runc.kill(container_id, "SIGKILL")
            return
        if grace_period > 0:
            await self.runc.kill(container_id, record.stop_signal)
            if await self._wait_exit(shim_dir, grace_period):
                return
        await self.runc.kill(container_id, "SIGKILL")
        await self._wait_exit(shim_dir, KILL_TIMEOUT)

    async def remove_container(self, container_id: str) -> None:
        try:
            record = self.records.container(container_id)
        except NotFound:
            return
        await self.stop_container(container_id, 0)
        try:
            await self.runc.delete(container_id)
        except RuncError as e:
            raise ContainerRuntimeError("RemoveContainerError", str(e)) from e
        destroy_bundle(self.records.container_dir(container_id))
        cgroups.remove_tree(record.cgroups_path)

    async def container_status(self, container_id: str) -> ContainerStatus:
        r = self.records.container(container_id)
        d = self.records.container_dir(container_id)
        shim = shimclient.read_state(d / "shim")
        finished = code = 0
        reason = message = ""
        if not shim.started_at:
            state = ContainerState.CREATED
        elif shim.exit is not None:
            state = ContainerState.EXITED
            finished, code = shim.exit.finished_at, shim.exit.exit_code
            if not (d / "runc.pid").exists():
                code, reason, message = 128, "StartError", start_error(d / "runc.log")
            elif cgroups.oom_kills(r.cgroups_path) > 0:
                reason = "OOMKilled"
            else:
                reason = "Completed" if code == 0 else "Error"
        elif shim.shim_alive or shim.process_alive:
            state = ContainerState.RUNNING
        else:
            state = ContainerState.UNKNOWN
        return ContainerStatus(
            id=r.id,
            sandbox_id=r.sandbox_id,
            name=r.config.name,
            attempt=r.config.attempt,
            state=state,
            created_at=r.created_at,
            image=r.image,
            image_ref=r.image_ref,
            started_at=shim.started_at,
            finished_at=finished,
            exit_code=code,
            reason=reason,
            message=message,
            log_path=r.log_path,
            labels=dict(r.config.labels),
            annotations=dict(r.config.annotations),
        )

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        out = []
        for container_id in self.records.container_ids():
            try:
                status = await self.container_status(container_id)
            except NotFound:  # removed meanwhile
                continue
            if sandbox_id is None or status.sandbox_id == sandbox_id:
                out.append(status)
        return out

    # ---- exec, attach, port-forward, logs --------------------------------------------

    async def _running(self, container_id: str) -> Path:
        status = await self.container_status(container_id)
        if status.state != ContainerState.RUNNING:
            raise ContainerRuntimeError(
                "ContainerNotRunning", f"container {container_id} is not running"
            )
        return self.records.container_dir(container_id)

    def _exec_argv(
        self, d: Path, container_id: str, cmd: Sequence[str], tty: bool = False
    ) -> tuple[list[str], Path]:
        pid_file = d / f"exec-{secrets.token_hex(8)}.pid"
        argv = self.runc.exec_argv(container_id, list(cmd), pid_file, streams.log_of(pid_file), tty)
        return argv, pid_file

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout_seconds: float
    ) -> ExecResult:
        d = await self._running(container_id)
        argv, pid_file = self._exec_argv(d, container_id, cmd)
        return await streams.exec_sync(argv, pid_file, self.clock, timeout_seconds)

    async def exec(
        self, container_id: str, cmd: Sequence[str], *, tty: bool, stdin: bool
    ) -> StreamedProcess:
        d = await self._running(container_id)
        argv, pid_file = self._exec_argv(d, container_id, cmd, tty)
        return await streams.ExecSession.start(argv, pid_file, tty=tty, stdin=stdin)

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> StreamedProcess:
        d = await self._running(container_id)
        c = self.records.container(container_id).config
        try:
            return await shimclient.attach(d / "shim", tty=tty and c.tty, stdin=stdin and c.stdin)
        except shimclient.ShimGone as e:
            raise ContainerRuntimeError(
                "ContainerNotRunning", f"container {container_id} has exited"
            ) from e

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        record = self.records.sandbox(sandbox_id)
        netns = self.sandboxes.netns(record)
        if netns is None:
            return await asyncio.open_connection("127.0.0.1", port)
        return await namespaces.connect_in_netns(netns, port)

    async def reopen_container_log(self, container_id: str) -> None:
        d = await self._running(container_id)
        try:
            await shimclient.request(d / "shim", "reopen")
        except (shimclient.ShimGone, RuntimeError) as e:
            raise ContainerRuntimeError("ReopenContainerLogError", str(e)) from e
