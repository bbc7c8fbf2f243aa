"""Pod behaviours both real runtimes must show, written once and collected by
`test_pods_oci.py` and `test_pods_process.py` (each provides the module fixture `node`,
a started `nodes.NodeServer`).

Every pod runs `busybox sh -c …` (busybox is on PATH in the test image and on the host)
and uses paths relative to its working directory (the image's "/" on oci, the pod's
root directory on the process runtime), so the same script works on both. The `pods`
fixture deletes a test's pods and then waits (with a deadline) until the node holds
nothing of them — no runc container, mount, cgroup or runtime record — failing the
test otherwise (after forcing the leftovers away).
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.stream import stream

from .conftest import free_port
from .leftovers import force_clean, leftovers
from .nodes import (
    NodeServer,
    Pod,
    busybox,
    condition,
    container,
    pod_manifest,
    ready,
    running,
    wait_for,
)


class Pods:
    """The pods of one test; `create` applies a manifest and remembers the pod's uid."""

    def __init__(self, node: NodeServer) -> None:
        self.node = node
        self.names: list[str] = []
        self.uids: list[str] = []

    def create(self, manifest: Pod) -> str:
        name: str = manifest["metadata"]["name"]
        self.node.apply(manifest)
        self.names.append(name)
        pod = self.node.pod(name)
        assert pod is not None
        self.uids.append(pod["metadata"]["uid"])
        self.node.pod_uids.append(pod["metadata"]["uid"])
        return name

    def cleanup(self) -> None:
        for name in self.names:
            self.node.delete(name)
        try:
            wait_for(
                lambda: not leftovers(self.node.data_dir, self.node.runtime, self.uids),
                "the node to hold nothing of the deleted pods",
                timeout=60,
            )
        except AssertionError:
            left = leftovers(self.node.data_dir, self.node.runtime, self.uids)
            force_clean(self.node.data_dir, self.node.runtime, self.uids)
            raise AssertionError(f"left behind: {left}") from None


@pytest.fixture(name="pods")
def pods_fixture(node: NodeServer) -> Iterator[Pods]:
    """The test's pods (import this fixture into a test module with a `node`)."""
    tracker = Pods(node)
    try:
        yield tracker
    finally:
        tracker.cleanup()


def events(node: NodeServer, name: str) -> list[dict[str, Any]]:
    out = node.ok("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json")
    found: list[dict[str, Any]] = json.loads(out)["items"]
    return found


def test_logs(node: NodeServer, pods: Pods) -> None:
    script = "echo hello from the pod; echo to stderr >&2; exec busybox sleep 3600"
    name = pods.create(pod_manifest("logs", [busybox("main", script)]))
    node.wait_pod(name, running, "Running")
    wait_for(lambda: "hello from the pod" in node.ok("logs", name), "the pod's output")
    out = node.ok("logs", name, "--timestamps")
    lines = out.splitlines()
    assert [line.partition(" ")[2] for line in lines] == ["hello from the pod", "to stderr"]
    assert all(line.partition(" ")[0].endswith("Z") for line in lines)
    assert node.ok("logs", name, "--tail", "1") == "to stderr\n"


def test_exec_exit_codes_and_stdin(node: NodeServer, pods: Pods) -> None:
    name = pods.create(pod_manifest("exec", [busybox("main", "exec busybox sleep 3600")]))
    node.wait_pod(name, running, "Running")
    result = node.kubectl(
        "exec", name, "--", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"
    )
    assert (result.returncode, result.stdout) == (3, "out\n"), result.stderr
    assert "err\n" in result.stderr
    assert "command terminated with exit code 3" in result.stderr
    assert node.kubectl("exec", name, "--", "busybox", "true").returncode == 0
    result = node.kubectl("exec", "-i", name, "--", "busybox", "tr", "a-z", "A-Z", stdin="up\n")
    assert (result.returncode, result.stdout) == (0, "UP\n"), result.stderr


def _in_pty(argv: list[str], keys: bytes, timeout: float = 30) -> tuple[int, bytes]:
    """Runs `argv` on a new pseudo-terminal, typing `keys`; (exit status, what it
    printed on the terminal)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(argv, stdin=terminal, stdout=terminal, stderr=terminal,
                               start_new_session=True)  # fmt: skip
    os.close(terminal)
    screen = b""
    deadline = time.monotonic() + timeout
    try:
        os.write(controller, keys)
        while time.monotonic() < deadline:
            ready_to_read, _, _ = select.select([controller], [], [], 0.2)
            if ready_to_read:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: every writer closed the terminal
                    break
                if not chunk:
                    break
                screen += chunk
            elif process.poll() is not None:
                break
        return process.wait(timeout=max(1.0, deadline - time.monotonic())), screen
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()


def test_exec_interactive_tty(node: NodeServer, pods: Pods) -> None:
    name = pods.create(pod_manifest("tty", [busybox("main", "exec busybox sleep 3600")]))
    node.wait_pod(name, running, "Running")
    argv = [*node.prefix(), "kubectl", "--kubeconfig", str(node.kubeconfig),
            "exec", "-it", name, "--", "busybox", "sh"]  # fmt: skip
    code, screen = _in_pty(argv, b"busybox tty; echo answer=$((6*7)); exit 5\n")
    assert b"answer=42" in screen, screen
    assert b"/dev/pts/" in screen, screen  # the shell had a terminal of its own
    assert code == 5, screen


def test_python_client_exec(node: NodeServer, pods: Pods) -> None:
    name = pods.create(pod_manifest("pyexec", [busybox("main", "exec busybox sleep 3600")]))
    node.wait_pod(name, running, "Running")

    def session() -> tuple[str, int | None, str]:
        api = node.api()
        ws = stream(
            api.connect_get_namespaced_pod_exec, name, "default",
            command=["busybox", "sh", "-c", "read x; echo got $x; exit 7"],
            stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False,
        )  # fmt: skip
        ws.write_stdin("input\n")
        ws.run_forever(timeout=20)
        out, code = ws.read_stdout(), ws.returncode
        ws.close()
        plain = stream(
            api.connect_get_namespaced_pod_exec, name, "default",
            command=["busybox", "echo", "hi"], stderr=True, stdin=False, stdout=True, tty=False,
        )  # fmt: skip
        return out, code, plain

    out, code, plain = node.call(session)
    assert (out, code, plain) == ("got input\n", 7, "hi\n")


def test_crash_loop_back_off_grows(node: NodeServer, pods: Pods) -> None:
    script = "echo crashing; exit 1"
    name = pods.create(pod_manifest("crash", [busybox("main", script)]))
    seen: list[tuple[int, str]] = []

    def backed_off_twice(pod: Pod) -> bool:
        status = container(pod)
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff":
            seen.append((status["restartCount"], waiting["message"]))
        return "back-off 20s" in waiting.get("message", "")

    pod = node.wait_pod(name, backed_off_twice, "a 20 s back-off", timeout=60)
    uid = pod["metadata"]["uid"]
    status = container(pod)
    assert status["restartCount"] >= 2
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert status["lastState"]["terminated"]["reason"] == "Error"
    assert not status["ready"]
    first = next(m for _, m in seen if "back-off" in m)
    assert first == f"back-off 10s restarting failed container=main pod=crash_default({uid})"
    assert seen[-1][1] == f"back-off 20s restarting failed container=main pod=crash_default({uid})"
    restarts_at_10s = {count for count, message in seen if "10s" in message}
    assert max(restarts_at_10s) < seen[-1][0]  # it restarted between the two back-offs
    assert node.ok("logs", name, "--previous") == "crashing\n"
    reasons = {e["reason"] for e in events(node, name)}
    assert "BackOff" in reasons


def test_liveness_failure_restarts(node: NodeServer, pods: Pods) -> None:
    script = "busybox touch healthy; exec busybox sleep 3600"
    probe = {
        "exec": {"command": ["busybox", "test", "-f", "healthy"]},
        "periodSeconds": 1,
        "failureThreshold": 1,
    }
    name = pods.create(pod_manifest("live", [busybox("main", script, livenessProbe=probe)]))
    first = node.wait_pod(name, running, "Running")
    node.wait_pod(name, lambda p: container(p).get("ready", False), "the container ready")
    node.ok("exec", name, "--", "busybox", "rm", "healthy")
    pod = node.wait_pod(
        name,
        lambda p: container(p).get("restartCount", 0) >= 1 and ready(p),
        "a restart after the liveness failure, and Ready again",
    )
    status = container(pod)
    assert status["containerID"] != container(first)["containerID"]
    assert "terminated" in status["lastState"]
    messages = [e["message"] for e in events(node, name) if e["reason"] == "Killing"]
    assert "Container main failed liveness probe, will be restarted" in messages
    unhealthy = [e["message"] for e in events(node, name) if e["reason"] == "Unhealthy"]
    assert any(m.startswith("Liveness probe failed") for m in unhealthy), unhealthy


def test_readiness_gates_ready(node: NodeServer, pods: Pods) -> None:
    probe = {"exec": {"command": ["busybox", "test", "-f", "ready"]}, "periodSeconds": 1}
    script = "busybox rm -f ready; exec busybox sleep 3600"
    name = pods.create(pod_manifest("gated", [busybox("main", script, readinessProbe=probe)]))
    node.wait_pod(name, running, "Running")
    wait_for(
        lambda: (
            sum(
                e.get("count", 1)
                for e in events(node, name)
                if e["reason"] == "Unhealthy" and e["message"].startswith("Readiness probe failed")
            )
            >= 2
        ),
        "two failed readiness probes",
    )
    pod = node.wait_pod(name, running, "Running")
    assert condition(pod, "Ready") == "False" and condition(pod, "ContainersReady") == "False"
    assert container(pod)["ready"] is False
    node.ok("exec", name, "--", "busybox", "touch", "ready")
    pod = node.wait_pod(name, ready, "Ready after the probe passes", timeout=20)
    assert container(pod)["ready"] is True and condition(pod, "ContainersReady") == "True"
    node.ok("exec", name, "--", "busybox", "rm", "ready")
    pod = node.wait_pod(name, lambda p: not ready(p), "not Ready when it fails", timeout=20)
    assert container(pod)["restartCount"] == 0  # readiness never restarts


def test_delete_waits_for_pre_stop_and_sigterm(
    node: NodeServer, pods: Pods, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    volume = {"name": "out", "hostPath": {"path": str(out), "type": "Directory"}}
    mount = {"name": "out", "mountPath": "/kybtest-out"}
    graceful = (
        "trap 'echo TERM >> kybtest-out/events; busybox sleep 1; "
        "echo TERM-done >> kybtest-out/events; exit 0' TERM; "
        "echo started >> kybtest-out/events; busybox sleep 3600 & wait"
    )
    pre_stop = (
        "echo prestop >> kybtest-out/events; busybox sleep 2; "
        "echo prestop-done >> kybtest-out/events"
    )
    hook = {"preStop": {"exec": {"command": ["busybox", "sh", "-c", pre_stop]}}}
    main = busybox("main", graceful, volumeMounts=[mount], lifecycle=hook)
    name = pods.create(
        pod_manifest("graceful", [main], volumes=[volume], terminationGracePeriodSeconds=20)
    )
    node.wait_pod(name, running, "Running")
    wait_for(lambda: (out / "events").exists(), "the container to start")
    took = node.delete(name)
    lines = (out / "events").read_text().split()
    assert lines == ["started", "prestop", "prestop-done", "TERM", "TERM-done"]
    assert 3 <= took < 15, took


def test_sigterm_ignored_killed_after_grace_period(
    node: NodeServer, pods: Pods, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    volume = {"name": "out", "hostPath": {"path": str(out), "type": "Directory"}}
    mount = {"name": "out", "mountPath": "/kybtest-out"}
    stubborn = (
        "trap '' TERM; echo started >> kybtest-out/events; "
        "while true; do busybox sleep 0.2; echo alive > kybtest-out/alive; done"
    )
    main = busybox("main", stubborn, volumeMounts=[mount])
    name = pods.create(
        pod_manifest("stubborn", [main], volumes=[volume], terminationGracePeriodSeconds=3)
    )
    node.wait_pod(name, running, "Running")
    wait_for(lambda: (out / "alive").exists(), "the container to run")
    took = node.delete(name)
    assert 3 <= took < 15, took  # the grace period, then SIGKILL
    assert (out / "events").read_text() == "started\n"


def test_config_map_volume_updates(node: NodeServer, pods: Pods) -> None:
    node.ok("create", "configmap", "settings", "--from-literal=greeting=first")
    try:
        volume = {"name": "settings", "configMap": {"name": "settings"}}
        mount = {"name": "settings", "mountPath": "/kybtest-config"}
        main = busybox("main", "exec busybox sleep 3600", volumeMounts=[mount])
        name = pods.create(pod_manifest("config", [main], volumes=[volume]))
        node.wait_pod(name, running, "Running")

        def greeting() -> str:
            return node.kubectl(
                "exec", name, "--", "busybox", "cat", "kybtest-config/greeting"
            ).stdout

        assert greeting() == "first"
        node.ok("patch", "configmap", "settings", "-p", '{"data":{"greeting":"second"}}')
        # The kubelet refreshes volumes on its periodic pod resync (1 min, as Kubernetes).
        wait_for(lambda: greeting() == "second", "the updated content", timeout=100)
    finally:
        node.ok("delete", "configmap", "settings", "--ignore-not-found")


def test_two_containers_talk_over_localhost(node: NodeServer, pods: Pods) -> None:
    port = free_port()
    server = (
        "busybox mkdir -p www-a && echo hello-from-a > www-a/index.html && "
        f"exec busybox httpd -f -p 127.0.0.1:{port} -h www-a"
    )
    client = (
        f"until busybox wget -q -O - http://127.0.0.1:{port}/; do busybox sleep 0.2; done; "
        "exec busybox sleep 3600"
    )
    name = pods.create(pod_manifest("pair", [busybox("a", server), busybox("b", client)]))
    node.wait_pod(name, running, "Running")
    wait_for(lambda: "hello-from-a" in node.ok("logs", name, "-c", "b"), "b to reach a")


def test_port_forward_reaches_httpd(node: NodeServer, pods: Pods) -> None:
    port = free_port()
    script = (
        "busybox mkdir -p www && echo served-by-the-pod > www/index.html && "
        f"exec busybox httpd -f -p 127.0.0.1:{port} -h www"
    )
    name = pods.create(pod_manifest("web", [busybox("main", script)]))
    node.wait_pod(name, running, "Running")
    local = free_port()
    forward = node.popen("port-forward", f"pod/{name}", f"{local}:{port}")
    try:
        assert forward.stdout is not None
        line = forward.stdout.readline()
        assert "Forwarding from" in line, forward.stderr.read() if forward.stderr else line
        for _ in range(2):  # two connections over one forwarding session
            fetched = wait_for(
                lambda: node.run("busybox", "wget", "-q", "-O", "-", f"http://127.0.0.1:{local}/"),
                "an answer through the forwarded port",
            )
            assert fetched.returncode == 0 and fetched.stdout == "served-by-the-pod\n"
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def test_missing_command_is_a_clear_error(node: NodeServer, pods: Pods) -> None:
    main = {"name": "main", "image": "kyb.test/busybox:1.36", "command": ["/kybtest/no-such"]}
    name = pods.create(pod_manifest("nocommand", [main], restartPolicy="Never"))
    pod = node.wait_pod(
        name, lambda p: p["status"].get("phase") == "Failed", "Failed (it cannot start)"
    )
    terminated = container(pod)["state"]["terminated"]
    assert terminated["reason"] == "StartError" and terminated["exitCode"] == 128
    assert "/kybtest/no-such" in terminated["message"]
    assert "no such file or directory" in terminated["message"]


def _ticks(node: NodeServer, name: str) -> list[int]:
    return [int(line.split()[1]) for line in node.ok("logs", name).splitlines()]


def test_kubelet_killed_and_restarted_keeps_pods(node: NodeServer, pods: Pods) -> None:
    """Kills (SIGKILL) and restarts the module's server."""
    script = "i=0; while true; do i=$((i+1)); echo tick $i; busybox sleep 0.2; done"
    name = pods.create(pod_manifest("survivor", [busybox("main", script)]))
    before = node.wait_pod(name, running, "Running")
    wait_for(lambda: len(_ticks(node, name)) >= 2, "some output")
    node.kill()
    log_file = Path(
        node.data_dir, "kubelet", "logs", f"default_{name}_{before['metadata']['uid']}", "main",
        "0.log",
    )  # fmt: skip
    size = log_file.stat().st_size
    wait_for(lambda: log_file.stat().st_size > size, "output while the kubelet is down")
    node.start()
    pod = node.wait_pod(name, lambda p: running(p) and ready(p), "Running and Ready")
    status, old = container(pod), container(before)
    assert status["containerID"] == old["containerID"]
    assert status["restartCount"] == 0
    assert status["state"]["running"]["startedAt"] == old["state"]["running"]["startedAt"]
    ticks = _ticks(node, name)
    assert ticks == list(range(1, len(ticks) + 1))  # never restarted: one run, no gap
    wait_for(lambda: _ticks(node, name)[-1] > ticks[-1], "the container to keep running")
    assert node.kubectl("exec", name, "--", "busybox", "true").returncode == 0
