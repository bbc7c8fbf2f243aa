"""Real containers end to end: one `kyb server --runtime oci` (runc, CNI bridge +
host-local, overlayfs, cgroups) per module, run INSIDE a network namespace the module
makes (`kybtest-<random>`, entered with nsenter; kubectl runs there too), so the bridge,
veths and iptables rules the CNI plugins make never touch the host.

The busybox test image is imported with `kyb images import` before the server starts;
a second tag is imported while it runs; and the local registry (Debian's
docker-registry, its storage shared with a twin registry inside the namespace) serves
it for a pull. Besides the shared behaviours of `pod_behaviours.py`: a container over
its memory limit is `OOMKilled`; an image that does not exist, or a registry that is
down, gives `ErrImagePull` with the registry's reason and then `ImagePullBackOff`.

After each test nothing of its pods is left (runc containers, mounts below the data
dir, pod cgroups, records), and after the module the namespace is gone — also on
failure (`nodes.force_clean`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.images import busybox_available
from tests.support.registry import (
    LocalRegistry,
    busybox_archives,
    local_registry,
    registry_available,
)

from .leftovers import force_clean
from .nodes import (
    Netns,
    NetnsRegistry,
    NodeServer,
    Pod,
    busybox,
    busybox_archive,
    container,
    import_image,
    oci_available,
    pod_manifest,
    running,
    wait_for,
)
from .pod_behaviours import (  # noqa: F401 (collected here as this module's tests)
    Pods,
    events,
    pods_fixture,
    test_config_map_volume_updates,
    test_crash_loop_back_off_grows,
    test_delete_waits_for_pre_stop_and_sigterm,
    test_exec_exit_codes_and_stdin,
    test_exec_interactive_tty,
    test_kubelet_killed_and_restarted_keeps_pods,
    test_liveness_failure_restarts,
    test_logs,
    test_missing_command_is_a_clear_error,
    test_port_forward_reaches_httpd,
    test_python_client_exec,
    test_readiness_gates_ready,
    test_sigterm_ignored_killed_after_grace_period,
    test_two_containers_talk_over_localhost,
)

__all__ = ["busybox_archives", "local_registry"]  # session fixtures `registry` uses

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        not oci_available() or shutil.which("kubectl") is None or not busybox_available(),
        reason="needs root, runc, the CNI plugins, nsenter, kubectl and busybox-static",
    ),
]

LATE_REF = "kyb.test/late:1"


@pytest.fixture(scope="module")
def netns() -> Iterator[Netns]:
    namespace = Netns().create()
    try:
        yield namespace
    finally:
        namespace.delete()
        assert not namespace.exists()


@pytest.fixture(scope="module")
def node(netns: Netns, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeServer]:
    data_dir = tmp_path_factory.mktemp("kyb-oci-node")
    import_image(data_dir, busybox_archive(tmp_path_factory.mktemp("images")))
    server = NodeServer(data_dir, "oci", netns)
    try:
        server.start()
        yield server
        server.stop()
    finally:
        server.kill()
        force_clean(data_dir, "oci", server.pod_uids)


@pytest.fixture(scope="module")
def registry(local_registry: LocalRegistry, netns: Netns) -> Iterator[NetnsRegistry]:
    if not registry_available():
        pytest.skip("needs docker-registry and skopeo")
    twin = NetnsRegistry(local_registry, netns)
    try:
        yield twin
    finally:
        twin.stop()


def _waiting(pod: Pod) -> dict[str, str]:
    found: dict[str, str] = (container(pod).get("state") or {}).get("waiting") or {}
    return found


def test_image_imported_while_running(node: NodeServer, pods: Pods, tmp_path: Path) -> None:
    import_image(node.data_dir, busybox_archive(tmp_path, LATE_REF))
    main = busybox("main", "echo late image; exec busybox sleep 3600", image=LATE_REF,
                   imagePullPolicy="Never")  # fmt: skip
    name = pods.create(pod_manifest("late", [main]))
    pod = node.wait_pod(name, running, "Running")
    assert container(pod)["image"] == LATE_REF
    assert (
        container(pod)["imageID"].startswith("sha256:") or "@sha256:" in container(pod)["imageID"]
    )
    wait_for(lambda: node.ok("logs", name) == "late image\n", "its output")


def test_pod_sandbox_network(node: NodeServer, pods: Pods) -> None:
    name = pods.create(pod_manifest("netcheck", [busybox("main", "exec busybox sleep 3600")]))
    pod = node.wait_pod(name, lambda p: running(p) and bool(p["status"].get("podIP")), "an IP")
    ip = pod["status"]["podIP"]
    assert ip.startswith("10.") and pod["status"]["hostIP"] == "127.0.0.1"
    assert node.ok("exec", name, "--", "hostname") == f"{name}\n"
    assert f"inet {ip}/" in node.ok("exec", name, "--", "ip", "-o", "-4", "addr", "show", "eth0")
    # the node reaches the pod over the CNI bridge
    assert node.run("busybox", "ping", "-c", "1", "-W", "2", ip).returncode == 0


def test_over_memory_limit_is_oom_killed(node: NodeServer, pods: Pods) -> None:
    hog = busybox(
        "main",
        "echo allocating; exec busybox dd if=/dev/zero of=/dev/null bs=64M count=1",
        resources={"limits": {"memory": "16Mi"}},
    )
    name = pods.create(pod_manifest("hog", [hog], restartPolicy="Never"))
    pod = node.wait_pod(name, lambda p: p["status"].get("phase") == "Failed", "Failed")
    terminated = container(pod)["state"]["terminated"]
    assert terminated["reason"] == "OOMKilled", terminated
    assert terminated["exitCode"] == 137


def test_pull_from_registry(node: NodeServer, pods: Pods, registry: NetnsRegistry) -> None:
    image = f"{registry.host}/busybox:1.36"
    main = busybox("main", "echo pulled; exec busybox sleep 3600", image=image,
                   imagePullPolicy="Always")  # fmt: skip
    name = pods.create(pod_manifest("pulled", [main]))
    pod = node.wait_pod(name, running, "Running")
    status = container(pod)
    assert status["image"] == image
    assert status["imageID"].startswith(f"{registry.host}/busybox@sha256:"), status["imageID"]
    assert any(e["reason"] == "Pulled" and "Successfully pulled" in e["message"]
               for e in events(node, name))  # fmt: skip
    wait_for(lambda: node.ok("logs", name) == "pulled\n", "its output")


def _pull_fails(node: NodeServer, pods: Pods, name: str, image: str) -> str:
    """Creates a pod of `image`, watching its container's waiting reason: ErrImagePull
    (with the registry's reason in the Failed event), then ImagePullBackOff. Returns
    the pull's error message."""
    reason = '{.status.containerStatuses[0].state.waiting.reason}{"\\n"}'
    selector = f"metadata.name={name}"  # a watch that starts before the pod exists
    with node.watch("get", "pods", "--watch", "--field-selector", selector, "-o",
                    f"jsonpath={reason}") as lines:  # fmt: skip
        pods.create(pod_manifest(name, [busybox("main", "true", image=image)]))
        wait_for(lambda: "ImagePullBackOff" in lines, "ImagePullBackOff")
    assert "ErrImagePull" in lines, lines
    assert lines.index("ErrImagePull") < lines.index("ImagePullBackOff"), lines
    pod = node.wait_pod(name, lambda p: p["status"]["phase"] == "Pending", "Pending")
    if _waiting(pod).get("reason") == "ImagePullBackOff":
        assert _waiting(pod)["message"] == f'Back-off pulling image "{image}"'
    failed = [e["message"] for e in events(node, name) if e["reason"] == "Failed"]
    assert "Error: ErrImagePull" in failed, failed
    prefix = f'Failed to pull image "{image}": '
    pulls = [m.removeprefix(prefix) for m in failed if m.startswith(prefix)]
    assert pulls, failed
    return str(pulls[0])


def test_image_that_does_not_exist(node: NodeServer, pods: Pods, registry: NetnsRegistry) -> None:
    message = _pull_fails(node, pods, "noimage", f"{registry.host}/kybtest/absent:1")
    assert "not found" in message.lower() or "unknown" in message.lower(), message


def test_registry_down(node: NodeServer, pods: Pods) -> None:
    message = _pull_fails(node, pods, "noregistry", "127.0.0.1:1/busybox:1.36")
    assert "refused" in message.lower() or "connect" in message.lower(), message
