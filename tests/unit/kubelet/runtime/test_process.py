"""The process runtime: sandboxes, container lifecycle, logs, exit reasons, stop with
grace period, restart survival, exec (sync, stdin, tty), attach, images."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import tarfile
from pathlib import Path
from typing import Any

import pytest

from kybernetes.client.clock import SystemClock
from kybernetes.kubelet.images.archive import import_archive
from kybernetes.kubelet.images.store import ImageStore
from kybernetes.kubelet.logs import LogOptions, read_logs
from kybernetes.kubelet.runtime.interface import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    Mount,
    NotFound,
    PodSandboxConfig,
    SandboxState,
)
from kybernetes.kubelet.runtime.process import ProcessRuntime
from kybernetes.kubelet.runtime.processimages import ProcessImageService
from kybernetes.kubelet.runtime.shim import proc_starttime
from tests.support.images import build_image, write_docker_archive

from .shim_fixtures import recorded_under, shim_dir
from .test_shim import eventually

__all__ = ["shim_dir"]

LABELS = {"io.kubernetes.pod.name": "web", "io.kubernetes.pod.namespace": "default"}


def sandbox_config(root: Path) -> PodSandboxConfig:
    return PodSandboxConfig(
        name="web",
        namespace="default",
        uid="uid-1",
        log_directory=str(root / "logs" / "default_web_uid-1"),
        labels=LABELS,
    )


def container(name: str, script: str, **kw: Any) -> ContainerConfig:
    return ContainerConfig(
        name=name,
        image="busybox",
        command=["sh", "-c", script],
        log_path=f"{name}/0.log",
        envs=[("GREETING", "hello")],
        labels={**LABELS, "io.kubernetes.container.name": name},
        **kw,
    )


@pytest.fixture
async def pod(shim_dir: Path) -> tuple[ProcessRuntime, str, PodSandboxConfig]:
    runtime = ProcessRuntime(shim_dir / "runtime")
    config = sandbox_config(shim_dir)
    return runtime, await runtime.run_pod_sandbox(config), config


async def run(pod: tuple[ProcessRuntime, str, PodSandboxConfig], config: ContainerConfig) -> str:
    runtime, sandbox_id, sandbox = pod
    container_id = await runtime.create_container(sandbox_id, config, sandbox)
    await runtime.start_container(container_id)
    return container_id


async def exited(runtime: ProcessRuntime, container_id: str) -> None:
    async def state() -> ContainerState:
        return (await runtime.container_status(container_id)).state

    async with asyncio.timeout(5):
        while True:
            if await state() == ContainerState.EXITED:
                return
            await asyncio.sleep(0.01)


async def test_sandbox_lifecycle(pod: tuple[ProcessRuntime, str, PodSandboxConfig]) -> None:
    runtime, sandbox_id, config = pod
    status = await runtime.pod_sandbox_status(sandbox_id)
    assert status.state == SandboxState.READY and status.ip == "127.0.0.1"
    assert status.config == config
    assert [s.id for s in await runtime.list_pod_sandboxes()] == [sandbox_id]
    assert os.listdir(config.log_directory) == []  # made, still empty
    assert os.stat(runtime.root).st_mode & 0o777 == 0o700  # records hold secrets
    long_running = await run(pod, container("c", "sleep 100"))
    await runtime.stop_pod_sandbox(sandbox_id)
    assert (await runtime.container_status(long_running)).exit_code == 137
    assert (await runtime.pod_sandbox_status(sandbox_id)).state == SandboxState.NOTREADY
    await runtime.remove_pod_sandbox(sandbox_id)
    assert await runtime.list_pod_sandboxes() == []
    assert await runtime.list_containers() == []
    with pytest.raises(NotFound):
        await runtime.pod_sandbox_status(sandbox_id)
    await runtime.stop_pod_sandbox(sandbox_id)  # idempotent
    await runtime.remove_pod_sandbox(sandbox_id)


async def test_container_lifecycle_logs_and_reasons(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig],
) -> None:
    runtime, sandbox_id, sandbox = pod
    ok = await runtime.create_container(sandbox_id, container("ok", 'echo "$GREETING"'), sandbox)
    created = await runtime.container_status(ok)
    assert created.state == ContainerState.CREATED and created.started_at == 0
    await runtime.start_container(ok)
    failing = await run(pod, container("bad", "echo broken >&2; exit 2"))
    await exited(runtime, ok)
    await exited(runtime, failing)
    done = await runtime.container_status(ok)
    assert (done.exit_code, done.reason) == (0, "Completed")
    assert (
        done.started_at <= done.finished_at and done.labels["io.kubernetes.container.name"] == "ok"
    )
    bad = await runtime.container_status(failing)
    assert (bad.exit_code, bad.reason) == (2, "Error")
    output = b"".join([c async for c in read_logs(done.log_path, LogOptions(), SystemClock())])
    assert output == b"hello\n"
    assert done.log_path == os.path.join(sandbox.log_directory, "ok/0.log")
    assert {c.id for c in await runtime.list_containers(sandbox_id)} == {ok, failing}
    with pytest.raises(ContainerRuntimeError):
        await runtime.start_container(ok)  # not in created state any more
    await runtime.remove_container(ok)
    await runtime.remove_container(ok)
    with pytest.raises(NotFound):
        await runtime.container_status(ok)


async def test_missing_executable_is_a_start_error(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig],
) -> None:
    runtime, sandbox_id, sandbox = pod
    config = ContainerConfig(name="c", image="busybox", command=["nope"])
    container_id = await runtime.create_container(sandbox_id, config, sandbox)
    with pytest.raises(ContainerRuntimeError) as failure:
        await runtime.start_container(container_id)
    assert failure.value.reason == "StartError"
    assert str(failure.value) == 'exec: "nope": executable file not found in $PATH'
    status = await runtime.container_status(container_id)
    assert (status.state, status.exit_code, status.reason) == (
        ContainerState.EXITED,
        128,
        "StartError",
    )
    assert status.message == str(failure.value)


async def test_no_command_without_a_known_image(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig],
) -> None:
    runtime, sandbox_id, sandbox = pod
    with pytest.raises(ContainerRuntimeError) as failure:
        await runtime.create_container(sandbox_id, ContainerConfig("c", "busybox"), sandbox)
    assert (failure.value.reason, str(failure.value)) == (
        "CreateContainerError",
        "no command specified",
    )


class FakeImages:
    def resolve(self, ref: str) -> str | None:
        return "sha256:" + "ab" * 32 if ref == "busybox" else None

    def config(self, image_id: str) -> dict[str, Any]:
        return {"Entrypoint": ["sh", "-c"], "Cmd": ["echo from image; sleep 100"],
                "WorkingDir": "/no/such/dir", "StopSignal": "SIGUSR1"}  # fmt: skip


async def test_image_entrypoint_workdir_and_stop_signal(shim_dir: Path) -> None:
    runtime = ProcessRuntime(shim_dir / "runtime", images=FakeImages())
    sandbox = sandbox_config(shim_dir)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    config = ContainerConfig(name="c", image="busybox", log_path="c/0.log")
    container_id = await run((runtime, sandbox_id, sandbox), config)
    status = await runtime.container_status(container_id)
    assert status.image_ref == "sha256:" + "ab" * 32
    result = await runtime.exec_sync(container_id, ["pwd"], 5)
    pod_root = shim_dir / "runtime" / "sandboxes" / sandbox_id / "fs"
    assert result.stdout.decode().strip() == str(pod_root / "no/such/dir")
    await runtime.stop_container(container_id, 5)  # SIGUSR1 ends sh
    assert (await runtime.container_status(container_id)).exit_code == 128 + signal.SIGUSR1


async def test_environment_working_dir_and_mount_links(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig], shim_dir: Path
) -> None:
    runtime, sandbox_id, _ = pod
    volume = shim_dir / "volume"
    volume.mkdir()
    (volume / "key").write_text("value")
    config = container(
        "c",
        "env | sort; pwd; cat data/key",
        working_dir="/srv/app",
        mounts=[Mount("/srv/app/data", str(volume)), Mount("/etc", "/ignored")],
    )
    container_id = await run(pod, config)
    await exited(runtime, container_id)
    status = await runtime.container_status(container_id)
    output = b"".join([c async for c in read_logs(status.log_path, LogOptions(), SystemClock())])
    pod_root = shim_dir / "runtime" / "sandboxes" / sandbox_id / "fs"
    assert output.decode().split("\n") == [
        "GREETING=hello",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"PWD={pod_root}/srv/app",
        f"{pod_root}/srv/app",
        "value",
    ]
    assert not (pod_root / "etc").exists()  # the host has /etc: not shadowed


async def test_volume_mounted_at_the_working_dir(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig], shim_dir: Path
) -> None:
    runtime, _, _ = pod
    volume = shim_dir / "volume"
    volume.mkdir()
    (volume / "key").write_text("value")
    config = container(
        "c", "cat key", working_dir="/kybtest/work", mounts=[Mount("/kybtest/work", str(volume))]
    )
    container_id = await run(pod, config)
    await exited(runtime, container_id)
    status = await runtime.container_status(container_id)
    output = b"".join([c async for c in read_logs(status.log_path, LogOptions(), SystemClock())])
    assert (output, status.exit_code) == (b"value", 0)  # unterminated: a P entry


async def test_stop_sigterm_then_sigkill_after_grace(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig],
) -> None:
    runtime, _, _ = pod
    polite = await run(pod, container("polite", "trap 'exit 0' TERM; while :; do sleep 0.05; done"))
    stubborn = await run(pod, container("stubborn", "trap '' TERM; echo ready; exec sleep 100"))
    status = await runtime.container_status(stubborn)
    await eventually(
        lambda: os.path.exists(status.log_path) and os.path.getsize(status.log_path) > 0
    )
    loop = asyncio.get_running_loop()
    began = loop.time()
    await runtime.stop_container(polite, 30)
    assert loop.time() - began < 5
    assert (await runtime.container_status(polite)).exit_code == 0
    began = loop.time()
    await runtime.stop_container(stubborn, 0.5)
    assert loop.time() - began >= 0.5
    killed = await runtime.container_status(stubborn)
    assert (killed.exit_code, killed.reason) == (137, "Error")
    await runtime.stop_container(stubborn, 1)  # idempotent


async def test_restart_survival(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig], shim_dir: Path
) -> None:
    runtime, sandbox_id, _ = pod
    long_running = await run(pod, container("long", "sleep 100"))
    short = await run(pod, container("short", "read x; exit 5", stdin=True, stdin_once=True))
    del runtime
    again = ProcessRuntime(shim_dir / "runtime")
    assert [s.id for s in await again.list_pod_sandboxes()] == [sandbox_id]
    states = {c.name: c.state for c in await again.list_containers(sandbox_id)}
    assert states == {"long": ContainerState.RUNNING, "short": ContainerState.RUNNING}
    session = await again.attach(short, tty=False, stdin=True)
    assert session.stdin is not None
    session.stdin.close()  # the container exits while no runtime object watches
    assert await session.wait() == 5
    await session.kill()
    third = ProcessRuntime(shim_dir / "runtime")
    status = await third.container_status(short)
    assert (status.state, status.exit_code, status.reason) == (ContainerState.EXITED, 5, "Error")
    assert (await third.container_status(long_running)).state == ContainerState.RUNNING
    server = recorded_under(shim_dir, "shims.sock.pid")
    assert len(server) == 1  # shims were forked by one shim server
    await third.close()  # stops it; the containers keep running
    await eventually(lambda: recorded_under(shim_dir, "shims.sock.pid") == [])
    assert (await third.container_status(long_running)).state == ContainerState.RUNNING
    await third.remove_pod_sandbox(sandbox_id)


async def test_exec_sync_exec_stdin_and_tty(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig],
) -> None:
    runtime, _, _ = pod
    container_id = await run(pod, container("c", "sleep 100"))
    result = await runtime.exec_sync(container_id, ["sh", "-c", 'echo "$GREETING"; exit 3'], 5)
    assert (result.exit_code, result.stdout, result.stderr) == (3, b"hello\n", b"")
    with pytest.raises(TimeoutError):
        await runtime.exec_sync(container_id, ["sleep", "100"], 0.2)
    with pytest.raises(ContainerRuntimeError, match='exec: "nope": executable file not found'):
        await runtime.exec_sync(container_id, ["nope"], 5)
    session = await runtime.exec(
        container_id, ["sh", "-c", "cat; echo e >&2"], tty=False, stdin=True
    )
    assert session.stdin is not None and session.stderr is not None
    session.stdin.write(b"piped\n")
    session.stdin.close()
    assert await session.stdout.read() == b"piped\n"
    assert await session.stderr.read() == b"e\n"
    assert await session.wait() == 0
    tty = await runtime.exec(
        container_id, ["sh", "-c", "read x; stty size; echo $x"], tty=True, stdin=True
    )
    assert tty.stdin is not None and tty.stderr is None
    tty.resize(77, 11)
    tty.stdin.write(b"typed\n")
    output = await tty.stdout.read()
    assert b"11 77\r\n" in output and b"typed\r\n" in output
    assert await tty.wait() == 0
    await tty.kill()
    endless = await runtime.exec(container_id, ["sleep", "100"], tty=False, stdin=False)
    await endless.kill()
    assert await endless.wait() == 137
    shell = await runtime.exec(container_id, ["sleep", "100"], tty=True, stdin=True)
    await runtime.stop_container(container_id, 0)  # ends its exec sessions too
    assert await shell.wait() == 137
    await shell.kill()
    with pytest.raises(ContainerRuntimeError):
        await runtime.exec_sync(container_id, ["true"], 5)


async def test_attach_with_tty(pod: tuple[ProcessRuntime, str, PodSandboxConfig]) -> None:
    runtime, _, _ = pod
    config = container("c", "read x; echo got:$x", stdin=True, tty=True)
    container_id = await run(pod, config)
    session = await runtime.attach(container_id, tty=True, stdin=True)
    assert session.stdin is not None and session.stderr is None
    session.stdin.write(b"hi\n")
    output = b""
    while b"got:hi" not in output:
        output += await session.stdout.read(100)
    assert await session.wait() == 0
    await session.kill()
    await exited(runtime, container_id)
    with pytest.raises(ContainerRuntimeError):
        await runtime.attach(container_id, tty=True, stdin=False)


async def test_reopen_log_and_port_forward(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig],
) -> None:
    runtime, sandbox_id, _ = pod
    container_id = await run(pod, container("c", "sleep 100"))
    log_path = (await runtime.container_status(container_id)).log_path
    os.rename(log_path, log_path + ".1")
    await runtime.reopen_container_log(container_id)
    assert os.stat(log_path).st_size == 0

    async def pong(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"pong")
        writer.close()

    server = await asyncio.start_server(pong, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader, writer = await runtime.port_forward(sandbox_id, port)
        assert await reader.read() == b"pong"
        writer.close()
    with pytest.raises(NotFound):
        await runtime.port_forward("nope", port)
    await runtime.remove_container(container_id)
    with pytest.raises(NotFound):
        await runtime.reopen_container_log(container_id)


async def test_shim_killed_then_stop(
    pod: tuple[ProcessRuntime, str, PodSandboxConfig], shim_dir: Path
) -> None:
    runtime, _, _ = pod
    container_id = await run(pod, container("c", "sleep 100"))
    state_dir = shim_dir / "runtime" / "containers" / container_id
    shim_pid = int((state_dir / "shim.pid").read_text().split()[0])
    pid = int((state_dir / "pid").read_text().split()[0])
    os.kill(shim_pid, signal.SIGKILL)
    await eventually(lambda: proc_starttime(shim_pid) == "")
    assert (await runtime.container_status(container_id)).state == ContainerState.UNKNOWN
    await runtime.stop_container(container_id, 1)
    await eventually(lambda: proc_starttime(pid) == "")
    assert (await runtime.container_status(container_id)).exit_code == 137


async def test_image_service(shim_dir: Path) -> None:
    images = ProcessImageService(shim_dir, FakeImages())
    known = await images.image_status("busybox")
    assert known is not None and known.id == "sha256:" + "ab" * 32
    other = await images.image_status("nginx:1.27")
    assert other is not None and other.repo_tags == ["docker.io/library/nginx:1.27"]
    assert await images.pull_image("nginx:1.27") == other.id
    assert await images.image_status("UPPER/Case") is None
    with pytest.raises(ContainerRuntimeError) as failure:
        await images.pull_image("UPPER/Case")
    assert failure.value.reason == "InvalidImageName"
    assert await images.list_images() == []
    used, capacity = await images.image_fs_usage()
    assert used == 0 and capacity > 0


async def test_entrypoint_from_an_imported_image(shim_dir: Path) -> None:
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        info = tarfile.TarInfo("etc/motd")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    image = build_image(
        "example.com/tools:1",
        layers=[layer.getvalue()],
        config={"Entrypoint": ["sh", "-c"], "Cmd": ["echo from image; pwd"],
                "WorkingDir": "/kybtest/app"},
    )  # fmt: skip
    store = ImageStore(shim_dir / "images")
    import_archive(store, write_docker_archive(shim_dir / "image.tar", image))
    runtime = ProcessRuntime(shim_dir / "runtime", images=store)
    sandbox = sandbox_config(shim_dir)
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    config = ContainerConfig(name="c", image="example.com/tools:1", log_path="c/0.log")
    container_id = await run((runtime, sandbox_id, sandbox), config)
    await exited(runtime, container_id)
    status = await runtime.container_status(container_id)
    assert (status.exit_code, status.image_ref) == (0, image.id)
    output = b"".join([c async for c in read_logs(status.log_path, LogOptions(), SystemClock())])
    pod_root = shim_dir / "runtime" / "sandboxes" / sandbox_id / "fs"
    assert output.decode() == f"from image\n{pod_root}/kybtest/app\n"
    images = ProcessImageService(shim_dir, store)
    found = await images.image_status("example.com/tools:1")
    assert found is not None and found.id == image.id
    await runtime.remove_pod_sandbox(sandbox_id)
    await runtime.close()
