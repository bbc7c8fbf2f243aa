"""The container shim, driven through shimclient: start, logs, exit records, signals,
attach (stdin, stdout, stderr, tty, resize), log reopening, detachment."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import signal
import struct
import sys
import termios
from collections.abc import Callable
from pathlib import Path

import pytest

from kybernetes.kubelet.logs import parse_line
from kybernetes.kubelet.runtime import shimclient
from kybernetes.kubelet.runtime.shim import proc_starttime

from .shim_fixtures import recorded_under, shim_dir

__all__ = ["shim_dir"]

ENV = [("PATH", "/usr/bin:/bin"), ("GREETING", "hello")]


async def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    """Waits until `check()` holds, failing after `seconds` (a bounded poll of state
    that only other processes change, not a wait for time)."""
    async with asyncio.timeout(seconds):
        while True:
            if check():
                return
            await asyncio.sleep(0.01)


def log_entries(path: Path) -> list[tuple[str, str, str]]:
    entries = [parse_line(line) for line in path.read_bytes().splitlines()]
    return [(e.stream, "P" if e.partial else "F", e.content.decode()) for e in entries]


async def test_runs_logs_and_records_exit(shim_dir: Path) -> None:
    state, log = shim_dir / "c", shim_dir / "logs" / "c" / "0.log"
    script = 'echo "$GREETING"; echo oops >&2; printf tail; pwd; exit 3'
    started = await shimclient.launch(
        state, ["sh", "-c", script.replace("; pwd", "")], log_path=str(log), env=ENV, cwd="/"
    )
    assert started.pid != started.shim_pid and started.started_at > 0
    record = await shimclient.wait_exit(state)
    assert (record.exit_code, record.signal) == (3, 0)
    assert record.finished_at >= started.started_at
    entries = log_entries(log)
    assert sorted(entries) == sorted(
        [("stdout", "F", "hello"), ("stderr", "F", "oops"), ("stdout", "P", "tail")]
    )
    final = shimclient.read_state(state)
    assert final.exit == record and final.started_at == started.started_at
    assert not (state / "attach.sock").exists()


async def test_environment_and_directory_are_exactly_given(shim_dir: Path) -> None:
    state, log = shim_dir / "c", shim_dir / "c.log"
    await shimclient.launch(state, ["/usr/bin/env"], log_path=str(log), env=ENV, cwd=str(shim_dir))
    await shimclient.wait_exit(state)
    assert sorted(content for _, _, content in log_entries(log)) == [
        "GREETING=hello",
        "PATH=/usr/bin:/bin",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope"], 'exec: "nope": executable file not found in $PATH'),
        (["/nope"], 'exec: "/nope": stat /nope: no such file or directory'),
        (["./plain"], 'exec: "./plain": permission denied'),
        (["./garbage"], 'exec: "./garbage": exec format error'),
    ],
)
async def test_start_errors_are_worded_like_runc(
    shim_dir: Path, argv: list[str], message: str
) -> None:
    (shim_dir / "plain").write_text("echo\n")
    (shim_dir / "garbage").write_bytes(b"\x7fELF garbage")
    (shim_dir / "garbage").chmod(0o755)
    with pytest.raises(shimclient.ShimStartError) as failure:
        await shimclient.launch(shim_dir / "c", argv, env=ENV, cwd=str(shim_dir))
    assert str(failure.value) == message
    state = shimclient.read_state(shim_dir / "c")
    assert state.started_at == 0 and state.exit is None


async def test_missing_working_directory(shim_dir: Path) -> None:
    with pytest.raises(shimclient.ShimStartError, match="chdir to cwd"):
        await shimclient.launch(shim_dir / "c", ["true"], env=ENV, cwd=str(shim_dir / "none"))


async def test_signal_goes_to_the_group_and_exit_code_is_128_plus(shim_dir: Path) -> None:
    state = shim_dir / "c"
    pid_file = shim_dir / "child"
    started = await shimclient.launch(
        state, ["sh", "-c", f"sleep 100 & echo $! > {pid_file}; wait"], env=ENV
    )
    await eventually(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    child = int(pid_file.read_text())
    assert os.getpgid(child) == started.pid  # the container's own group and session
    assert os.getsid(started.pid) == started.pid and os.getsid(started.shim_pid) == started.shim_pid
    await shimclient.send_signal(state, signal.SIGTERM)
    record = await shimclient.wait_exit(state)
    assert (record.exit_code, record.signal) == (143, 15)
    await eventually(lambda: proc_starttime(child) == "")


async def test_group_leftovers_are_killed_when_the_main_process_exits(shim_dir: Path) -> None:
    state, pid_file = shim_dir / "c", shim_dir / "child"
    await shimclient.launch(
        state, ["sh", "-c", f"sleep 100 >/dev/null & echo $! > {pid_file}"], env=ENV
    )
    assert (await shimclient.wait_exit(state)).exit_code == 0
    child = int(pid_file.read_text())
    await eventually(lambda: proc_starttime(child) == "")


async def test_escaped_writer_does_not_hold_the_exit_back(shim_dir: Path) -> None:
    state, pid_file = shim_dir / "c", shim_dir / "escaped"
    script = f"setsid sh -c 'echo $$ > {pid_file}; exec sleep 100' & sleep 0.2; echo done"
    await shimclient.launch(state, ["sh", "-c", script], env=ENV)
    await eventually(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    escaped = int(pid_file.read_text())
    try:
        async with asyncio.timeout(5):
            assert (await shimclient.wait_exit(state)).exit_code == 0
    finally:
        os.kill(escaped, signal.SIGKILL)


async def test_attach_streams_stdin_stdout_stderr(shim_dir: Path) -> None:
    state, log = shim_dir / "c", shim_dir / "c.log"
    script = 'while read l; do echo "out:$l"; echo "err:$l" >&2; done; echo bye'
    await shimclient.launch(
        state, ["sh", "-c", script], log_path=str(log), env=ENV, stdin=True, stdin_once=True
    )
    session = await shimclient.attach(state, tty=False, stdin=True)
    assert session.stdin is not None and session.stderr is not None
    session.stdin.write(b"one\n")
    assert await session.stdout.readline() == b"out:one\n"
    assert await session.stderr.readline() == b"err:one\n"
    session.stdin.close()  # stdinOnce: the container's stdin ends with this session's
    assert await session.stdout.readline() == b"bye\n"
    assert await session.wait() == 0
    assert await session.stdout.read() == b""
    await session.kill()
    assert ("stdout", "F", "bye") in log_entries(log)


async def test_large_stdin_is_delivered_whole(shim_dir: Path) -> None:
    state = shim_dir / "c"
    script = "sleep 0.3; wc -c"  # lets the shim's buffer pass its limit first
    await shimclient.launch(state, ["sh", "-c", script], env=ENV, stdin=True, stdin_once=True)
    session = await shimclient.attach(state, tty=False, stdin=True)
    assert session.stdin is not None
    session.stdin.write(b"x" * (10 << 20))
    await session.stdin.drain()
    session.stdin.close()
    assert (await session.stdout.readline()).strip() == str(10 << 20).encode()
    assert await session.wait() == 0
    await session.kill()


async def test_bad_usage_is_reported(shim_dir: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", shimclient.SHIM_MODULE, "--state-dir", str(shim_dir), "--bogus",
        "--", "true", stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode == 2
    assert json.loads(out) == {"error": "container shim: unknown option --bogus"}


async def test_attach_to_a_tty_with_resize(shim_dir: Path) -> None:
    state = shim_dir / "c"
    started = await shimclient.launch(
        state, ["sh", "-c", "read x; echo got:$x"], env=ENV, stdin=True, tty=True
    )
    session = await shimclient.attach(state, tty=True, stdin=True)
    assert session.stderr is None and session.stdin is not None
    tty = os.readlink(f"/proc/{started.pid}/fd/0")
    assert tty.startswith("/dev/pts/")

    def size() -> tuple[int, int]:
        fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY)
        try:
            rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
        finally:
            os.close(fd)
        return cols, rows

    session.resize(120, 40)
    await eventually(lambda: size() == (120, 40))
    await shimclient.request(state, "resize 90 20")
    assert size() == (90, 20)
    session.stdin.write(b"hi\n")
    output = b""
    while b"got:hi" not in output:
        output += await session.stdout.read(100)
    assert b"\r\n" in output  # a terminal's line discipline
    assert await session.wait() == 0
    await session.kill()


async def test_reopen_log_after_rotation(shim_dir: Path) -> None:
    state, log = shim_dir / "c", shim_dir / "c.log"
    await shimclient.launch(
        state,
        ["sh", "-c", "while read l; do echo $l; done"],
        log_path=str(log),
        env=ENV,
        stdin=True,
    )
    _, writer = await shimclient._connect(state, "stdin")
    writer.write(b"before\n")
    await eventually(lambda: log.exists() and b"before" in log.read_bytes())
    log.rename(shim_dir / "c.log.1")
    await shimclient.request(state, "reopen")
    writer.write(b"after\n")
    await eventually(lambda: log.exists() and b"after" in log.read_bytes())
    assert b"after" not in (shim_dir / "c.log.1").read_bytes()
    with pytest.raises(RuntimeError, match="unknown request"):
        await shimclient.request(state, "bogus")
    writer.close()
    await shimclient.send_signal(state, signal.SIGKILL)
    assert (await shimclient.wait_exit(state)).exit_code == 137
    with pytest.raises(shimclient.ShimGone):
        await shimclient.request(state, "reopen")


async def test_long_state_directory_path(shim_dir: Path) -> None:
    state = shim_dir / ("d" * 60) / ("e" * 60)
    await shimclient.launch(state, ["sh", "-c", "read x; echo $x"], env=ENV, stdin=True)
    session = await shimclient.attach(state, tty=False, stdin=True)
    assert session.stdin is not None
    session.stdin.write(b"far\n")
    assert await session.stdout.readline() == b"far\n"
    assert await session.wait() == 0
    await session.kill()


async def test_container_outlives_its_launcher_killed(shim_dir: Path) -> None:
    state = shim_dir / "c"
    launcher = (
        "import asyncio, pathlib, sys\n"
        "from kybernetes.kubelet.runtime import shimclient\n"
        "asyncio.run(shimclient.launch(pathlib.Path(sys.argv[1]), ['sleep', '100']))\n"
        "print('launched', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", launcher, str(state), start_new_session=True,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    assert await proc.stdout.readline() == b"launched\n"
    os.killpg(proc.pid, signal.SIGKILL)  # like a kubelet killed with its process group
    await proc.wait()
    running = shimclient.read_state(state)
    assert running.shim_alive and running.process_alive and running.exit is None
    await shimclient.send_signal(state, signal.SIGKILL)
    assert (await shimclient.wait_exit(state)).exit_code == 137


async def test_container_outlives_a_killed_shim(shim_dir: Path) -> None:
    state = shim_dir / "c"
    started = await shimclient.launch(state, ["sleep", "100"], env=ENV)
    before = shimclient.read_state(state)
    assert before.shim_alive and before.process_alive and before.exit is None
    os.kill(started.shim_pid, signal.SIGKILL)
    await eventually(lambda: not shimclient.read_state(state).shim_alive)
    after = shimclient.read_state(state)
    assert after.process_alive and after.exit is None
    with pytest.raises(shimclient.ShimGone):
        await shimclient.wait_exit(state)
    os.killpg(started.pid, signal.SIGKILL)
    await eventually(lambda: not shimclient.read_state(state).process_alive)


def servers(path: Path) -> list[int]:
    """The live shim server serving `path`, as its PATH.pid file records it."""
    return recorded_under(path.parent, path.name + ".pid")


async def test_forkserver_starts_shims_that_outlive_it(shim_dir: Path) -> None:
    sock, log = shim_dir / "shims.sock", shim_dir / "c.log"
    first = await shimclient.launch(
        shim_dir / "a", ["sh", "-c", "echo $GREETING; exec sleep 100"], env=ENV,
        log_path=str(log), forkserver=sock,
    )  # fmt: skip
    (server,) = servers(sock)
    await shimclient.launch(shim_dir / "b", ["sleep", "100"], env=ENV, forkserver=sock)
    assert servers(sock) == [server]  # reused
    with pytest.raises(shimclient.ShimStartError, match="executable file not found"):
        await shimclient.launch(shim_dir / "c", ["nope"], env=ENV, forkserver=sock)
    await eventually(lambda: log.exists() and log_entries(log) == [("stdout", "F", "hello")])
    assert os.getsid(first.shim_pid) == first.shim_pid  # detached like any shim
    os.kill(server, signal.SIGKILL)
    await eventually(lambda: servers(sock) == [])
    for state in (shim_dir / "a", shim_dir / "b"):
        assert shimclient.read_state(state).shim_alive
        await shimclient.send_signal(state, signal.SIGKILL)
        assert (await shimclient.wait_exit(state)).exit_code == 137
    # the socket of the dead server is stale: a new server replaces it
    third = await shimclient.launch(shim_dir / "d", ["true"], env=ENV, forkserver=sock)
    assert (await shimclient.wait_exit(shim_dir / "d")).exit_code == 0
    assert third.pid > 0 and len(servers(sock)) == 1
    shimclient.stop_forkserver(sock)
    await eventually(lambda: servers(sock) == [])


async def test_forkserver_exits_when_idle(shim_dir: Path) -> None:
    sock = shim_dir / "shims.sock"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", shimclient.SERVER_MODULE, "--socket", str(sock), "--idle", "0.3"
    )
    assert await proc.wait() == 0
    assert sock.exists()
    await eventually(lambda: not sock.exists() and servers(sock) == [])


async def test_forkserver_exits_when_its_socket_is_removed(shim_dir: Path) -> None:
    sock = shim_dir / "shims.sock"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", shimclient.SERVER_MODULE, "--socket", str(sock), "--idle", "60"
    )
    assert await proc.wait() == 0
    (server,) = servers(sock)
    sock.unlink()
    await eventually(lambda: proc_starttime(server) == "")


async def test_without_a_usable_forkserver_shims_start_directly(shim_dir: Path) -> None:
    sock = shim_dir / "missing-dir" / "shims.sock"
    await shimclient.launch(shim_dir / "c", ["true"], env=ENV, forkserver=sock)
    assert (await shimclient.wait_exit(shim_dir / "c")).exit_code == 0
