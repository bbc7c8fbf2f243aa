"""Security settings and host namespaces on real containers: default capabilities
(Docker's set), privileged, user from securityContext, read-only root filesystem,
sysctls, hostNetwork and hostPID (the "host" being the test's own namespaces)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kybernetes.kubelet.runtime.interface import ContainerState, LinuxResources, SecurityContext
from kybernetes.kubelet.runtime.oci.runtime import OciRuntime
from tests.unit.kubelet.runtime.oci.conftest import (
    NOBODY_REF,
    OciEnv,
    container_config,
    eventually,
    in_netns,
    sandbox_config,
)

pytestmark = pytest.mark.root

DOCKER_DEFAULT_CAPS = 0x00000000A80425FB


async def run_to_end(
    rt: OciRuntime, sid: str, name: str, script: str = "", **kw: object
) -> tuple[int, str]:
    """Runs `sh -c script` (the image's command if no script) in a new container; its
    exit code and its stdout."""
    sb = (await rt.pod_sandbox_status(sid)).config
    command = ["sh", "-c", script] if script else []
    cid = await rt.create_container(sid, container_config(name, command, **kw), sb)
    await rt.start_container(cid)

    async def exited() -> bool:
        return (await rt.container_status(cid)).state == ContainerState.EXITED

    await eventually(exited)
    st = await rt.container_status(cid)
    return st.exit_code, stdout_of(Path(st.log_path))


def stdout_of(log: Path) -> str:
    """The stdout lines of a CRI log file (stderr interleaves in no fixed order)."""
    entries = [line.split(" ", 3) for line in log.read_text().splitlines()]
    return "\n".join(e[3] for e in entries if e[1] == "stdout")


def bounding_set() -> int:
    return int(Path("/proc/self/status").read_text().split("CapBnd:")[1].split()[0], 16)


def cap(name: str) -> str:
    return f"grep ^{name}: /proc/self/status | cut -f2"


@in_netns
async def test_security_context(oci: OciEnv) -> None:
    rt = oci.runtime()
    sb = sandbox_config(
        log_directory=str(oci.logs), sysctls={"net.ipv4.ping_group_range": "0 2147483647"}
    )
    sid = await rt.run_pod_sandbox(sb)

    code, out = await run_to_end(
        rt, sid, "default", f"{cap('CapBnd')}; {cap('CapEff')}; touch /ok && echo rw"
    )
    assert code == 0
    bounding, effective, rw = out.splitlines()
    assert int(bounding, 16) == int(effective, 16) == DOCKER_DEFAULT_CAPS and rw == "rw"

    code, out = await run_to_end(
        rt, sid, "privileged", cap("CapEff"), security_context=SecurityContext(privileged=True)
    )
    assert code == 0 and int(out, 16) == bounding_set()

    sc = SecurityContext(
        run_as_user=65534,
        run_as_group=65534,
        readonly_rootfs=True,
        no_new_privs=True,
        drop_capabilities=("ALL",),
    )
    script = (
        f"id -u; id -g; {cap('CapBnd')}; grep ^NoNewPrivs /proc/self/status | cut -f2; touch /x"
    )
    code, out = await run_to_end(rt, sid, "restricted", script, security_context=sc)
    assert out.splitlines()[:4] == ["65534", "65534", "0000000000000000", "1"]
    assert code == 1

    code, out = await run_to_end(
        rt, sid, "ro", "touch /x 2>&1", security_context=SecurityContext(readonly_rootfs=True)
    )
    assert (code, out) == (1, "touch: /x: Read-only file system")

    assert (await run_to_end(rt, sid, "ipc1", "echo shared > /dev/shm/f"))[0] == 0
    assert await run_to_end(rt, sid, "ipc2", "cat /dev/shm/f") == (0, "shared")

    oom = LinuxResources(oom_score_adj=999)
    assert await run_to_end(rt, sid, "oom", "cat /proc/self/oom_score_adj", resources=oom) == (
        0,
        "999",
    )

    code, out = await run_to_end(rt, sid, "sysctl", "cat /proc/sys/net/ipv4/ping_group_range")
    assert (code, out.split()) == (0, ["0", "2147483647"])
    await rt.remove_pod_sandbox(sid)


@in_netns
async def test_host_network_and_pid(oci: OciEnv) -> None:
    rt = oci.runtime()
    sb = sandbox_config(log_directory=str(oci.logs), host_network=True, host_pid=True)
    sid = await rt.run_pod_sandbox(sb)
    assert (await rt.pod_sandbox_status(sid)).ip == ""
    code, out = await run_to_end(
        rt, sid, "host", "readlink /proc/self/ns/net; readlink /proc/self/ns/pid; hostname"
    )
    net, pid, hostname = out.splitlines()
    assert code == 0
    assert net == os.readlink("/proc/self/ns/net") and pid == os.readlink("/proc/self/ns/pid")
    assert hostname == os.uname().nodename

    serve = "mkdir -p /www && echo host > /www/index.html && exec httpd -f -p 18090 -h /www"
    cid = await rt.create_container(sid, container_config("web", ["sh", "-c", serve]), sb)
    await rt.start_container(cid)

    async def serving() -> bool:
        probe = await rt.exec_sync(cid, ["wget", "-qO-", "http://127.0.0.1:18090/"], 5)
        return probe.exit_code == 0

    await eventually(serving)
    reader, writer = await rt.port_forward(sid, 18090)  # the host's (here: the test's) loopback
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    assert (await reader.read()).endswith(b"\r\n\r\nhost\n")
    writer.close()
    await rt.remove_pod_sandbox(sid)


@in_netns
async def test_image_config_decides_user_directory_and_command(oci: OciEnv) -> None:
    rt = oci.runtime()
    sid = await rt.run_pod_sandbox(sandbox_config(log_directory=str(oci.logs)))
    assert await run_to_end(rt, sid, "image", image=NOBODY_REF) == (0, "65534:65534 /tmp image")
    override = "echo $(id -u) $PWD $MODE"
    result = await run_to_end(
        rt, sid, "pod", override, image=NOBODY_REF, working_dir="/", envs=(("MODE", "pod"),)
    )
    assert result == (0, "65534 / pod")

    # stop_container sends the image's StopSignal (SIGUSR1) first
    sb = (await rt.pod_sandbox_status(sid)).config
    waits = "trap 'echo usr1; exit 0' USR1; echo ready; while true; do sleep 0.1; done"
    cid = await rt.create_container(
        sid, container_config("stop", ["sh", "-c", waits], image=NOBODY_REF), sb
    )
    await rt.start_container(cid)
    log = oci.logs / "stop/0.log"

    async def trapping() -> bool:  # PID 1 ignores signals it has no handler for
        return log.exists() and "ready" in log.read_text()

    await eventually(trapping)
    await rt.stop_container(cid, 30)
    st = await rt.container_status(cid)
    assert (st.state, st.exit_code) == (ContainerState.EXITED, 0)
    assert stdout_of(log) == "ready\nusr1"
    await rt.remove_pod_sandbox(sid)
