"""The `process` runtime: containers are plain host processes. NO ISOLATION.

!!! Every container runs as the kubelet's own user, in the host's filesystem, network,
!!! PID and IPC namespaces, without resource limits. A pod can read and kill anything
!!! that user can. Use it only for trusted workloads: laptops and CI without root.

What a pod gets:
- Sandbox: a state directory (ROOT/sandboxes/ID) and IP 127.0.0.1; `port_forward`
  connects to 127.0.0.1:PORT; hostPorts, DNS config and sysctls are ignored.
- Container: its command run through the container shim (`shim.py`: detached, own
  session, CRI logs, attach socket, exit record; forked by a `shimserver` at
  ROOT/shims.sock to save a Python start per container), with exactly the ContainerConfig env
  (plus PATH when missing). `command` empty: the image's Entrypoint (and Cmd when `args`
  is empty too), known only if the node's ImageStore has the image; otherwise the pod
  must give a command (`CreateContainerError: no command specified`).
- Filesystem: a "pod root" ROOT/sandboxes/ID/fs stands in for paths the host lacks. A
  workingDir that exists on the host is used as is; one that does not is created under
  the pod root; none means the pod root. Mounts cannot be done without root: a volume
  whose container path does not exist on the host is symlinked at that path under the
  pod root (so relative paths from the working dir reach it); other mounts, securityContext,
  resources and readOnlyRootFilesystem are ignored.
- exec/exec_sync: host processes with the container's env and working dir (exec
  sessions are killed when the container is stopped, by the runtime object that
  started them); attach goes
  through the shim's socket; stop: the stop signal (the image's StopSignal, else SIGTERM)
  to the process group, SIGKILL after the grace period.

Images: see `processimages.ProcessImageService` (nothing is pulled; images the node's
ImageStore lacks get a synthetic id so the kubelet never tries to pull).

State lives only in files (ROOT/sandboxes/ID/sandbox.json, ROOT/containers/ID/
container.json made by `processrecords`, plus the shim's files), so a new
ProcessRuntime on the same root sees the same sandboxes and containers, running ones
still running and exits recorded by their shims meanwhile. Exit reasons: `Completed`
(0), `Error` (other codes); a start failure is recorded as exited with code 128 and
reason `StartError`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import shutil
import signal
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import kybernetes
from kybernetes.client.clock import Clock, SystemClock

from . import hostexec, shimclient
from .interface import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    ExecResult,
    Mount,
    NotFound,
    PodSandboxConfig,
    PodSandboxStatus,
    SandboxState,
    StreamedProcess,
)
from .processimages import ImageConfigSource
from .processrecords import container_record, restore, write_json
from .shimstate import proc_starttime

SANDBOX_IP = "127.0.0.1"


class ProcessRuntime:
    """RuntimeService running containers as host processes (see module docstring)."""

    name = "process"
    version = kybernetes.__version__

    def __init__(
        self,
        root: Path,
        clock: Clock | None = None,
        images: ImageConfigSource | None = None,
        forkserver: bool = True,
    ) -> None:
        """`forkserver`: start shims through a `shimserver` at ROOT/shims.sock (a Python
        start saved per container) rather than one `python -m` each."""
        self.root = Path(root)
        self.clock: Clock = clock or SystemClock()
        self.forkserver = self.root / "shims.sock" if forkserver else None
        self._execs: dict[str, set[tuple[int, str]]] = {}  # container -> (pid, start time)
        self.images = images
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)  # container records hold their env, secrets included
        for sub in ("sandboxes", "containers"):
            (self.root / sub).mkdir(exist_ok=True)

    async def close(self) -> None:
        """Stops the shim fork server (it would exit after a minute idle anyway);
        containers and their shims keep running. Not part of RuntimeService."""
        if self.forkserver is not None:
            shimclient.stop_forkserver(self.forkserver)

    # -- sandboxes -----------------------------------------------------------------

    def _sandbox_dir(self, sandbox_id: str) -> Path:
        path = self.root / "sandboxes" / sandbox_id
        if not sandbox_id or "/" in sandbox_id or not (path / "sandbox.json").exists():
            raise NotFound(f"pod sandbox {sandbox_id} not found")
        return path

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        sandbox_id = secrets.token_hex(32)
        try:
            self._make_sandbox(sandbox_id, config)
        except OSError as e:
            shutil.rmtree(self.root / "sandboxes" / sandbox_id, ignore_errors=True)
            raise ContainerRuntimeError("CreatePodSandboxError", str(e)) from e
        return sandbox_id

    def _make_sandbox(self, sandbox_id: str, config: PodSandboxConfig) -> None:
        path = self.root / "sandboxes" / sandbox_id
        (path / "fs").mkdir(parents=True)
        if config.log_directory:
            Path(config.log_directory).mkdir(parents=True, exist_ok=True)
        record = {"config": dataclasses.asdict(config), "created_at": time.time_ns()}
        write_json(path / "sandbox.json", record)

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            path = self._sandbox_dir(sandbox_id)
        except NotFound:
            return
        for container in await self.list_containers(sandbox_id):
            await self.stop_container(container.id, 0)
        (path / "stopped").touch()

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        try:
            path = self._sandbox_dir(sandbox_id)
        except NotFound:
            return
        for container in await self.list_containers(sandbox_id):
            await self.remove_container(container.id)
        shutil.rmtree(path, ignore_errors=True)

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus:
        path = self._sandbox_dir(sandbox_id)
        record = json.loads((path / "sandbox.json").read_text())
        stopped = (path / "stopped").exists()
        return PodSandboxStatus(
            id=sandbox_id,
            config=restore(PodSandboxConfig, record["config"]),
            state=SandboxState.NOTREADY if stopped else SandboxState.READY,
            created_at=record["created_at"],
            ip="" if stopped else SANDBOX_IP,
        )

    async def list_pod_sandboxes(self) -> list[PodSandboxStatus]:
        found = []
        for entry in sorted(os.listdir(self.root / "sandboxes")):
            try:
                found.append(await self.pod_sandbox_status(entry))
            except (NotFound, FileNotFoundError):
                continue  # removed meanwhile
        return found

    async def port_forward(
        self, sandbox_id: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self._sandbox_dir(sandbox_id)
        return await asyncio.open_connection(SANDBOX_IP, port)

    # -- containers ----------------------------------------------------------------

    def _container_dir(self, container_id: str) -> Path:
        path = self.root / "containers" / container_id
        if not container_id or "/" in container_id or not (path / "container.json").exists():
            raise NotFound(f"container {container_id} not found")
        return path

    def _record(self, container_id: str) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(
            (self._container_dir(container_id) / "container.json").read_text()
        )
        return record

    def _image_config(self, image: str) -> tuple[str, dict[str, Any]]:
        """(image id, OCI config section) from the ImageStore, or ("", {})."""
        image_id = self.images.resolve(image) if self.images is not None else None
        if image_id is None or self.images is None:
            return "", {}
        try:
            return image_id, self.images.config(image_id)
        except LookupError:  # removed since it resolved
            return "", {}

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str:
        sandbox_dir = self._sandbox_dir(sandbox_id)
        image_id, image = self._image_config(config.image)
        record = container_record(sandbox_id, config, sandbox_config, image_id, image)
        container_id = secrets.token_hex(32)
        try:
            self._make_container(container_id, record, config.mounts, sandbox_dir / "fs")
        except OSError as e:
            shutil.rmtree(self.root / "containers" / container_id, ignore_errors=True)
            raise ContainerRuntimeError("CreateContainerError", str(e)) from e
        return container_id

    def _make_container(
        self, container_id: str, record: dict[str, Any], mounts: Sequence[Mount], pod_root: Path
    ) -> None:
        """Creates the mount links and the working dir (in that order: a volume may be
        mounted at the working dir), then the container's record."""
        for mount in mounts:
            self._link_mount(pod_root, mount)
        workdir = record["cwd"]
        if workdir and Path(workdir).is_dir():
            cwd = Path(workdir)
        else:
            cwd = pod_root / workdir.lstrip("/")
            cwd.mkdir(parents=True, exist_ok=True)
        record["cwd"] = str(cwd)
        path = self.root / "containers" / container_id
        path.mkdir()
        write_json(path / "container.json", record)

    @staticmethod
    def _link_mount(pod_root: Path, mount: Mount) -> None:
        """Makes `mount` reachable at pod_root/CONTAINER_PATH when the host lacks the path
        and nothing else is there (the pod root is shared by the pod's containers)."""
        target = Path(mount.container_path)
        link = pod_root / mount.container_path.lstrip("/")
        if not target.is_absolute() or target.exists() or ".." in target.parts:
            return
        if link.is_symlink() or link.exists():
            return
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(mount.host_path)

    async def start_container(self, container_id: str) -> None:
        path = self._container_dir(container_id)
        record = self._record(container_id)
        if shimclient.read_state(path).started_at or (path / "start_error").exists():
            raise ContainerRuntimeError(
                "RunContainerError", f"container {container_id} is not in created state"
            )
        config = record["config"]
        try:
            await shimclient.launch(
                path,
                record["argv"],
                log_path=record["log_path"],
                env=[(k, v) for k, v in record["env"]],
                cwd=record["cwd"],
                stdin=config["stdin"],
                stdin_once=config["stdin_once"],
                tty=config["tty"],
                forkserver=self.forkserver,
            )
        except shimclient.ShimStartError as e:
            failure = {"message": str(e), "finished_at": time.time_ns()}
            write_json(path / "start_error", failure)
            raise ContainerRuntimeError("StartError", str(e)) from None

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        try:
            await self._stop(container_id, grace_period)
        finally:
            self._end_execs(container_id)

    def _end_execs(self, container_id: str) -> None:
        """Kills the exec sessions this runtime object started in the container (they
        would die with a real container's PID namespace)."""
        for pid, started in self._execs.pop(container_id, set()):
            if proc_starttime(pid) == started:
                with suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)

    async def _stop(self, container_id: str, grace_period: float) -> None:
        try:
            path = self._container_dir(container_id)
        except NotFound:
            return
        state = shimclient.read_state(path)
        if state.exit is not None or not state.started_at:
            return
        if not state.shim_alive:
            self._kill_orphan(path, state)
            return
        if grace_period > 0:
            stop_signal = signal.Signals[self._record(container_id)["stop_signal"]]
            try:
                await shimclient.send_signal(path, stop_signal)
                await hostexec.within(shimclient.wait_exit(path), self.clock, grace_period)
                return
            except (TimeoutError, shimclient.ShimGone):
                pass
        try:
            await shimclient.send_signal(path, signal.SIGKILL)
            await shimclient.wait_exit(path)
        except shimclient.ShimGone:
            state = shimclient.read_state(path)
            if state.exit is None:
                self._kill_orphan(path, state)

    @staticmethod
    def _kill_orphan(path: Path, state: shimclient.ShimState) -> None:
        """The shim was killed: SIGKILL the container's group ourselves and record it."""
        if state.process_alive:
            try:
                os.killpg(state.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            record = {"exit_code": 137, "signal": 9, "finished_at": time.time_ns()}
            write_json(path / "exit", record)

    async def remove_container(self, container_id: str) -> None:
        try:
            path = self._container_dir(container_id)
        except NotFound:
            return
        await self.stop_container(container_id, 0)
        shutil.rmtree(path, ignore_errors=True)

    async def container_status(self, container_id: str) -> ContainerStatus:
        path = self._container_dir(container_id)
        record = self._record(container_id)
        config = restore(ContainerConfig, record["config"])
        state = shimclient.read_state(path)
        status = ContainerStatus(
            id=container_id,
            sandbox_id=record["sandbox_id"],
            name=config.name,
            attempt=config.attempt,
            state=ContainerState.CREATED,
            created_at=record["created_at"],
            image=config.image,
            image_ref=record["image_ref"],
            started_at=state.started_at,
            log_path=record["log_path"],
            labels=config.labels,
            annotations=config.annotations,
        )
        start_error = path / "start_error"
        if start_error.exists():
            failure = json.loads(start_error.read_text())
            return dataclasses.replace(
                status,
                state=ContainerState.EXITED,
                exit_code=128,
                finished_at=failure["finished_at"],
                reason="StartError",
                message=failure["message"],
            )
        if state.exit is not None:
            return dataclasses.replace(
                status,
                state=ContainerState.EXITED,
                exit_code=state.exit.exit_code,
                finished_at=state.exit.finished_at,
                reason="Completed" if state.exit.exit_code == 0 else "Error",
            )
        if not state.started_at:
            return status
        alive = ContainerState.RUNNING if state.shim_alive else ContainerState.UNKNOWN
        return dataclasses.replace(status, state=alive)

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        found = []
        for entry in sorted(os.listdir(self.root / "containers")):
            try:
                status = await self.container_status(entry)
            except (NotFound, FileNotFoundError):
                continue  # removed meanwhile
            if sandbox_id is None or status.sandbox_id == sandbox_id:
                found.append(status)
        return found

    async def reopen_container_log(self, container_id: str) -> None:
        path = self._container_dir(container_id)
        try:
            await shimclient.request(path, "reopen")
        except (shimclient.ShimGone, RuntimeError) as e:
            raise ContainerRuntimeError("ReopenLogError", f"container is not running: {e}") from e

    # -- exec and attach -----------------------------------------------------------

    async def _running(self, container_id: str) -> dict[str, Any]:
        path = self._container_dir(container_id)
        state = shimclient.read_state(path)
        if state.exit is not None or not state.shim_alive:
            raise ContainerRuntimeError("ExecError", "cannot exec in a stopped state")
        return self._record(container_id)

    async def exec_sync(
        self, container_id: str, cmd: Sequence[str], timeout_seconds: float
    ) -> ExecResult:
        record = await self._running(container_id)
        env = dict(record["env"])
        return await hostexec.run_sync(cmd, env, record["cwd"], self.clock, timeout_seconds)

    async def exec(
        self, container_id: str, cmd: Sequence[str], *, tty: bool, stdin: bool
    ) -> StreamedProcess:
        record = await self._running(container_id)
        session = await hostexec.start(
            cmd, dict(record["env"]), record["cwd"], tty=tty, stdin=stdin
        )
        sessions = self._execs.setdefault(container_id, set())
        sessions -= {(p, t) for p, t in sessions if proc_starttime(p) != t}  # ended ones
        sessions.add((session.pid, proc_starttime(session.pid)))
        return session

    async def attach(self, container_id: str, *, tty: bool, stdin: bool) -> StreamedProcess:
        record = await self._running(container_id)
        config = record["config"]
        try:
            return await shimclient.attach(
                self._container_dir(container_id),
                tty=config["tty"],
                stdin=stdin and config["stdin"],
            )
        except shimclient.ShimGone:
            raise ContainerRuntimeError("AttachError", "container is not running") from None
