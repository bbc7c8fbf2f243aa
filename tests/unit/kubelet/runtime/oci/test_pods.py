"""A real pod on runc: two containers talking over localhost, logs, exit codes,
start errors, the sandbox's network, hostname and /etc files."""

from __future__ import annotations

import asyncio
import re

import pytest

from kybernetes.kubelet.runtime.interface import (
    ContainerRuntimeError,
    ContainerState,
    DNSConfig,
    SandboxState,
)
from kybernetes.kubelet.runtime.oci.mounts import unmount_all
from tests.unit.kubelet.runtime.oci.conftest import (
    OciEnv,
    container_config,
    eventually,
    in_netns,
    sandbox_config,
)

pytestmark = pytest.mark.root

SERVE = "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"
FETCH = "until wget -qO- http://127.0.0.1:8080/; do sleep 0.1; done; hostname; cat /etc/resolv.conf"


@in_netns
async def test_two_containers_talk_over_localhost(oci: OciEnv) -> None:
    rt = oci.runtime()
    dns = DNSConfig(
        servers=("10.43.0.10",), searches=("default.svc.cluster.local",), options=("ndots:5",)
    )
    sb_config = sandbox_config("web", hostname="web-0", log_directory=str(oci.logs), dns_config=dns)
    sid = await rt.run_pod_sandbox(sb_config)
    status = await rt.pod_sandbox_status(sid)
    assert status.state == SandboxState.READY
    assert re.fullmatch(r"10\.42\.0\.\d+", status.ip)

    server = await rt.create_container(
        sid, container_config("server", ["sh", "-c", SERVE]), sb_config
    )
    client = await rt.create_container(
        sid, container_config("client", ["sh", "-c", FETCH]), sb_config
    )
    assert (await rt.container_status(server)).state == ContainerState.CREATED
    await rt.start_container(server)
    await rt.start_container(client)

    async def client_done() -> bool:
        return (await rt.container_status(client)).state == ContainerState.EXITED

    await eventually(client_done)
    st = await rt.container_status(client)
    assert (st.exit_code, st.reason) == (0, "Completed")
    assert st.log_path == str(oci.logs / "client/0.log")
    log = (oci.logs / "client/0.log").read_text().splitlines()
    lines = [line.split(" ", 3)[3] for line in log]
    assert lines[:2] == ["hello", "web-0"]
    assert "nameserver 10.43.0.10" in lines and "search default.svc.cluster.local" in lines
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z stdout F hello", log[0])
    assert (await rt.container_status(server)).state == ContainerState.RUNNING

    await rt.stop_pod_sandbox(sid)
    st = await rt.container_status(server)
    assert st.state == ContainerState.EXITED and st.exit_code == 137
    assert (await rt.pod_sandbox_status(sid)).state == SandboxState.NOTREADY
    assert not (oci.root / "cni/networks/kybernetes" / status.ip).exists()  # IP released
    await rt.stop_pod_sandbox(sid)  # idempotent
    await rt.remove_pod_sandbox(sid)
    assert await rt.list_containers() == [] and await rt.list_pod_sandboxes() == []


@in_netns
async def test_exit_codes_and_start_error(oci: OciEnv) -> None:
    rt = oci.runtime()
    sb_config = sandbox_config(log_directory=str(oci.logs))
    sid = await rt.run_pod_sandbox(sb_config)
    cid = await rt.create_container(
        sid, container_config("fail", ["sh", "-c", "echo out; echo err >&2; exit 3"]), sb_config
    )
    await rt.start_container(cid)

    async def exited() -> bool:
        return (await rt.container_status(cid)).state == ContainerState.EXITED

    await eventually(exited)
    st = await rt.container_status(cid)
    assert (st.exit_code, st.reason) == (3, "Error")
    assert st.started_at and st.finished_at >= st.started_at
    streams = sorted(
        line.split(" ")[1:4:2] for line in (oci.logs / "fail/0.log").read_text().splitlines()
    )
    assert streams == [["stderr", "err"], ["stdout", "out"]]

    nope = await rt.create_container(sid, container_config("nope", ["nope"]), sb_config)
    with pytest.raises(ContainerRuntimeError) as e:
        await rt.start_container(nope)
    assert e.value.reason == "StartError"
    assert str(e.value) == 'exec: "nope": executable file not found in $PATH'
    st = await rt.container_status(nope)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 128, "StartError")

    with pytest.raises(ContainerRuntimeError) as e:
        await rt.create_container(
            sid, container_config("bad", []).__class__(name="bad", image="no/such:image"), sb_config
        )
    assert e.value.reason == "CreateContainerError"

    stubborn = await rt.create_container(
        sid, container_config("stubborn", ["sleep", "1000"]), sb_config
    )
    await rt.start_container(stubborn)
    await rt.stop_container(stubborn, 0.5)  # PID 1 without a TERM handler: SIGKILL after 0.5 s
    st = await rt.container_status(stubborn)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 137, "Error")
    await rt.remove_pod_sandbox(sid)


@in_netns
async def test_sandbox_without_its_namespaces_is_not_ready(oci: OciEnv) -> None:
    rt = oci.runtime()
    sid = await rt.run_pod_sandbox(sandbox_config())
    assert [s.state for s in await rt.list_pod_sandboxes()] == [SandboxState.READY]
    unmount_all(oci.root / "sandboxes" / sid / "ns")  # what a reboot does
    assert (await rt.pod_sandbox_status(sid)).state == SandboxState.NOTREADY
    await rt.remove_pod_sandbox(sid)
    assert await rt.list_pod_sandboxes() == []


@in_netns
async def test_concurrent_pods(oci: OciEnv) -> None:
    """Pods created and removed concurrently (as pod workers do) get distinct IPs on the
    shared bridge and can reach each other."""
    rt = oci.runtime()

    async def pod(i: int) -> tuple[str, str]:
        sb = sandbox_config(f"p{i}")
        sid = await rt.run_pod_sandbox(sb)
        cid = await rt.create_container(sid, container_config("web", ["sh", "-c", SERVE]), sb)
        await rt.start_container(cid)
        return sid, (await rt.pod_sandbox_status(sid)).ip

    pods = await asyncio.gather(*(pod(i) for i in range(5)))
    ips = [ip for _, ip in pods]
    assert len(set(ips)) == 5
    (sid0, _), (_, ip1) = pods[0], pods[1]
    (client,) = await rt.list_containers(sid0)
    fetch = f"until wget -qO- http://{ip1}:8080/; do sleep 0.1; done"
    assert (await rt.exec_sync(client.id, ["sh", "-c", fetch], 10)).stdout == b"hello\n"
    await asyncio.gather(*(rt.remove_pod_sandbox(sid) for sid, _ in pods))
    assert await rt.list_pod_sandboxes() == [] and await rt.list_containers() == []
