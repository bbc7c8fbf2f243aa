"""Pods on the process runtime end to end: one `kyb server --runtime process` (its local
node, any user, no network namespace: the runtime makes no interfaces) per module, the
busybox test image imported with `kyb images import` after the server started, and the
shared behaviours of `pod_behaviours.py` driven by the real kubectl: logs, exec with exit
codes and stdin, CrashLoopBackOff with growing delays, liveness restarts, readiness
gating, preStop + SIGTERM on delete and SIGKILL after the grace period, a ConfigMap
volume's updates (symlinked at its mount path under the pod's root), two containers over
localhost, port-forward to a busybox httpd, a missing command, and a SIGKILLed kubelet
whose pods keep running. Memory limits (OOMKilled) and image pulls are the oci
runtime's (test_pods_oci.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.images import busybox_available

from .leftovers import kill_shim_sessions
from .nodes import NodeServer, busybox_archive, import_image
from .pod_behaviours import (  # noqa: F401 (collected here as this module's tests)
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

pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None or not busybox_available(),
    reason="needs kubectl and Debian's busybox-static",
)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeServer]:
    data_dir = tmp_path_factory.mktemp("kyb-process-node")
    server = NodeServer(data_dir, "process")
    try:
        server.start()
        import_image(data_dir, busybox_archive(tmp_path_factory.mktemp("images")))
        yield server
        server.stop()
    finally:
        server.kill()
        kill_shim_sessions(data_dir)
