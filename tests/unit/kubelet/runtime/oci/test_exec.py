"""exec, exec_sync, attach and port-forward into real containers; a new runtime on the
same root (a restarted kubelet) finds the running pod without disturbing it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from kybernetes.kubelet.runtime.interface import (
    ContainerRuntimeError,
    ContainerState,
    PortMapping,
    StreamedProcess,
)
from kybernetes.kubelet.runtime.oci import OciRuntime
from tests.unit.kubelet.runtime.oci.conftest import (
    OciEnv,
    container_config,
    eventually,
    in_netns,
    sandbox_config,
)

pytestmark = pytest.mark.root

NOT_FOUND = (
    "OCI runtime exec failed: exec failed: unable to start container process: "
    'exec: "nope": executable file not found in $PATH'
)
REPO = Path(__file__).parents[5]
GRACEFUL = "trap 'exit 0' TERM; echo up; while true; do sleep 0.1; done"
SERVE = "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"


# Reads lines until the terminal has the size it was given (runc applies a resize
# asynchronously, on the SIGWINCH its own terminal gets).
UNTIL_SIZED = 'while read x; do s=$(stty size); echo "size:$s"; [ "$s" = "$x" ] && exit 0; done'


async def until_sized(session: StreamedProcess, size: bytes) -> None:
    """Asks the UNTIL_SIZED script running in `session` until it sees `size`."""
    assert session.stdin is not None
    for _ in range(50):
        session.stdin.write(size + b"\r")
        await session.stdin.drain()
        while not (line := await session.stdout.readline()).startswith(b"size:"):
            assert line, "the session ended"
        if line.strip() == b"size:" + size:
            return
    raise AssertionError(f"the terminal never got the size {size!r}")


async def http_get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n")
    await writer.drain()
    body = await reader.read()
    writer.close()
    return body


@in_netns
async def test_exec_sync_and_streams(oci: OciEnv) -> None:
    rt = oci.runtime()
    sb = sandbox_config()
    sid = await rt.run_pod_sandbox(sb)
    cid = await rt.create_container(
        sid, container_config("c", ["sleep", "1000"], envs=(("GREETING", "hi"),)), sb
    )
    await rt.start_container(cid)

    result = await rt.exec_sync(cid, ["sh", "-c", "echo $GREETING; echo oops >&2; exit 7"], 10)
    assert (result.exit_code, result.stdout, result.stderr) == (7, b"hi\n", b"oops\n")

    for tty in (False, True):
        with pytest.raises(ContainerRuntimeError) as e:
            await rt.exec(cid, ["nope"], tty=tty, stdin=False)
        assert (e.value.reason, str(e.value)) == ("ExecError", NOT_FOUND)
    with pytest.raises(ContainerRuntimeError) as e:
        await rt.exec_sync(cid, ["nope"], 10)
    assert (e.value.reason, str(e.value)) == ("ExecError", NOT_FOUND)
    result = await rt.exec_sync(cid, ["sh", "-c", "exit 255"], 10)
    assert result.exit_code == 255

    with pytest.raises(TimeoutError):
        await rt.exec_sync(cid, ["sleep", "77"], 0.3)
    ps = await rt.exec_sync(cid, ["ps", "-o", "args"], 10)
    assert b"sleep 77" not in ps.stdout

    proc = await rt.exec(
        cid, ["sh", "-c", "read line; echo got:$line; echo e >&2; exit 4"], tty=False, stdin=True
    )
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(b"ping\n")
    await proc.stdin.drain()
    assert await proc.stdout.read() == b"got:ping\n"
    assert await proc.stderr.read() == b"e\n"
    assert await proc.wait() == 4

    tty = await rt.exec(cid, ["sh", "-c", UNTIL_SIZED], tty=True, stdin=True)
    assert tty.stdin is not None and tty.stderr is None
    tty.resize(100, 40)
    await until_sized(tty, b"40 100")
    assert await tty.wait() == 0
    await tty.kill()

    long = await rt.exec(cid, ["sleep", "88"], tty=False, stdin=False)
    await long.kill()
    await long.kill()
    ps = await rt.exec_sync(cid, ["ps", "-o", "args"], 10)
    assert b"sleep 88" not in ps.stdout

    await rt.stop_container(cid, 0)
    with pytest.raises(ContainerRuntimeError):
        await rt.exec_sync(cid, ["true"], 1)
    await rt.remove_pod_sandbox(sid)


@in_netns
async def test_attach(oci: OciEnv) -> None:
    rt = oci.runtime()
    sb = sandbox_config()
    sid = await rt.run_pod_sandbox(sb)
    cid = await rt.create_container(
        sid,
        container_config(
            "cat", ["sh", "-c", "cat; echo bye >&2; exit 5"], stdin=True, stdin_once=True
        ),
        sb,
    )
    await rt.start_container(cid)
    session = await rt.attach(cid, tty=False, stdin=True)
    assert session.stdin is not None and session.stderr is not None
    session.stdin.write(b"echo me\n")
    await session.stdin.drain()
    assert await session.stdout.readline() == b"echo me\n"
    session.stdin.close()
    assert await session.stderr.readline() == b"bye\n"
    assert await session.wait() == 5
    await session.kill()

    tty = await rt.create_container(
        sid, container_config("tty", ["sh", "-c", UNTIL_SIZED], stdin=True, tty=True), sb
    )
    await rt.start_container(tty)
    session = await rt.attach(tty, tty=True, stdin=True)
    assert session.stdin is not None and session.stderr is None
    session.resize(90, 30)
    await until_sized(session, b"30 90")
    assert await session.wait() == 0
    await session.kill()
    await rt.remove_pod_sandbox(sid)


@in_netns
async def test_port_forward_and_host_port(oci: OciEnv) -> None:
    rt = oci.runtime()
    sb = sandbox_config(port_mappings=(PortMapping(container_port=8080, host_port=18080),))
    sid = await rt.run_pod_sandbox(sb)
    cid = await rt.create_container(sid, container_config("web", ["sh", "-c", SERVE]), sb)
    await rt.start_container(cid)

    async def serving() -> bool:
        return (
            await rt.exec_sync(cid, ["wget", "-qO-", "http://127.0.0.1:8080/"], 5)
        ).exit_code == 0

    await eventually(serving)
    assert (await http_get(*await rt.port_forward(sid, 8080))).endswith(b"\r\n\r\nhello\n")
    with pytest.raises(ConnectionError):
        await rt.port_forward(sid, 9)

    # hostPort through portmap's DNAT, from this (the test's) network namespace:
    # the bridge's gateway address is local here, so OUTPUT's DNAT applies.
    reply = await http_get(*await asyncio.open_connection("10.42.0.1", 18080))
    assert reply.endswith(b"\r\n\r\nhello\n")
    await rt.remove_pod_sandbox(sid)


async def init_identity(rt: OciRuntime, cid: str) -> tuple[str, str]:
    """The container's init process as (command, start time) from /proc/1/stat."""
    fields = (await rt.exec_sync(cid, ["cat", "/proc/1/stat"], 5)).stdout.decode().split()
    return fields[1], fields[21]


@in_netns
async def test_new_runtime_adopts_running_pod(oci: OciEnv) -> None:
    rt = oci.runtime()
    sb = sandbox_config(log_directory=str(oci.logs))
    sid = await rt.run_pod_sandbox(sb)
    cid = await rt.create_container(sid, container_config("c", ["sh", "-c", GRACEFUL]), sb)
    await rt.start_container(cid)
    before = await rt.container_status(cid)
    init_before = await init_identity(rt, cid)

    log = oci.logs / "c/0.log"

    async def trapping() -> bool:  # PID 1 ignores signals it has no handler for
        return log.exists() and "up" in log.read_text()

    await eventually(trapping)
    again = oci.runtime()
    assert [s.id for s in await again.list_pod_sandboxes()] == [sid]
    (after,) = await again.list_containers(sid)
    assert after == before and after.state == ContainerState.RUNNING
    assert await init_identity(again, cid) == init_before  # the same process, untouched
    await again.stop_container(cid, 10)
    st = await again.container_status(cid)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 0, "Completed")
    await again.remove_pod_sandbox(sid)


KUBELET = """
import asyncio, json, sys
from pathlib import Path
from tests.unit.kubelet.runtime.oci.conftest import OciEnv, container_config, sandbox_config

async def main():
    env = OciEnv(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]))
    rt = env.runtime()
    sb = sandbox_config(log_directory=str(env.logs))
    sid = await rt.run_pod_sandbox(sb)
    tick = "while true; do echo tick; sleep 0.05; done"
    cid = await rt.create_container(sid, container_config("c", ["sh", "-c", tick]), sb)
    await rt.start_container(cid)
    print(json.dumps([sid, cid]), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@in_netns
async def test_pod_survives_its_runtime_process_being_killed(oci: OciEnv) -> None:
    """A "kubelet" process makes a pod and is SIGKILLed; the container keeps running
    and logging, and a new runtime finds and controls it."""
    args = [str(oci.root), str(oci.images), oci.cgroup_root, str(oci.logs)]
    kubelet = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KUBELET, *args, stdout=asyncio.subprocess.PIPE, cwd=REPO
    )
    assert kubelet.stdout is not None
    sid, cid = json.loads(await kubelet.stdout.readline())
    kubelet.kill()
    await kubelet.wait()

    rt = oci.runtime()
    log = oci.logs / "c/0.log"
    seen = len(log.read_text().splitlines())

    async def still_logging() -> bool:
        return len(log.read_text().splitlines()) > seen + 3

    await eventually(still_logging)
    (status,) = await rt.list_containers(sid)
    assert (status.id, status.state) == (cid, ContainerState.RUNNING)
    assert (await rt.exec_sync(cid, ["echo", "alive"], 5)).stdout == b"alive\n"

    log.rename(log.with_name("0.log.1"))  # rotation: the container must write anew
    await rt.reopen_container_log(cid)

    async def reopened() -> bool:
        return log.exists() and "tick" in log.read_text()

    await eventually(reopened)
    await rt.remove_pod_sandbox(sid)
