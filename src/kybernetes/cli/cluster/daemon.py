"""`kyb cluster daemon`: the one long-lived host process of a local cluster.

Started detached by `kyb cluster create` (own session, logs in DIR/N/logs/daemon.log),
it is the parent of the cluster's node processes and a child subreaper
(PR_SET_CHILD_SUBREAPER), so every process the nodes orphan (container shims) is
reaped here rather than left a zombie. It:

1. serves the API port forwarder (`forwarder.Forwarder`) on the listening socket it
   inherited, into the server node's namespace;
2. starts `kyb server` in the server's namespace, waits for its join token, then starts
   `kyb agent` in each agent's namespace (token in the environment, not argv), each
   with its output in DIR/N/logs/NODE.log, and records them in processes.json;
3. reaps children until SIGTERM/SIGINT (SIGHUP starts again the nodes that are down
   and not held stopped by `kyb cluster stop-node`); then stops the node processes (SIGTERM, SIGKILL
   after a grace period), then every process left in the cluster's namespaces, reaps
   them and exits. Nodes that exit are not restarted (tests stop nodes on purpose).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from ..apiserver import run_component
from ..server import CLUSTER_DNS_IP
from ..supervisor import kyb_command
from . import registry
from .forwarder import Forwarder
from .netns import NETNS_DIR, in_netns
from .plan import API_PORT, ClusterPlan, NodePlan
from .processes import ProcessRef, ref, stop
from .teardown import sweep_namespaces

PR_SET_CHILD_SUBREAPER = 36
NODE_GRACE = 15.0
TOKEN_TIMEOUT = 120.0


def node_argv(plan: ClusterPlan, node: NodePlan, runtime: str) -> list[str]:
    """The command line of a node process (run inside the node's namespace)."""
    common = ["--node-name", node.node_name, "--node-ip", node.ip, "--data-dir", str(node.data_dir)]
    if runtime:
        common += ["--runtime", runtime]
    if node.role == "server":
        argv = kyb_command(
            "server", "--bind-address", node.ip,
            "--write-kubeconfig", str(node.data_dir / "kubeconfig.yaml"), *common,
        )  # fmt: skip
    else:
        argv = kyb_command(
            "agent", "--server", plan.api_url, "--cluster-dns", CLUSTER_DNS_IP, *common
        )
    return in_netns(node.netns, argv)


def token_path(plan: ClusterPlan) -> Path:
    return plan.server.data_dir / "server" / "token"


def _set_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _reap() -> None:
    """Reaps every exited child (ours and adopted orphans) without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Daemon:
    """The daemon's node processes (see the module docstring)."""

    def __init__(self, plan: ClusterPlan, runtime: str) -> None:
        self.plan = plan
        self.runtime = runtime
        self.started: dict[str, ProcessRef] = {}
        self.token: str | None = None
        self._children: list[subprocess.Popen[bytes]] = []

    def start(self, node: NodePlan, env: dict[str, str] | None = None) -> ProcessRef:
        node.data_dir.mkdir(parents=True, exist_ok=True)
        self.plan.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.plan.log_dir / f"{node.short}.log", "ab") as log:
            child = subprocess.Popen(
                node_argv(self.plan, node, self.runtime),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, env={**os.environ, **(env or {})},
            )  # fmt: skip
        self._children.append(child)
        process = ref(child.pid) or ProcessRef(child.pid, 0)
        self.started[node.short] = process
        registry.save_processes(self.plan.directory, self.started)
        print(f"kyb cluster daemon: started {node.node_name} (pid {child.pid})", flush=True)
        return process

    async def run(self, stop_event: asyncio.Event) -> None:
        """Starts the nodes, reaps (on SIGCHLD) until `stop_event`, then stops
        everything."""
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGCHLD, _reap)
        try:
            server = self.start(self.plan.server)
            self.token = await self._token(server, stop_event)
            if self.token is not None:
                for agent in self.plan.nodes[1:]:
                    self.start(agent, {"KYB_TOKEN": self.token})
            loop.add_signal_handler(signal.SIGHUP, self.start_wanted)
            _reap()  # anything that exited before the handler saw it
            await stop_event.wait()
        finally:
            loop.remove_signal_handler(signal.SIGCHLD)
            loop.remove_signal_handler(signal.SIGHUP)
            await asyncio.to_thread(self._shutdown)

    def start_wanted(self) -> None:
        """(SIGHUP) Starts every node that is not running and not held stopped
        (`registry.held_stopped`), e.g. after `kyb cluster start-node`."""
        held = registry.held_stopped(self.plan.directory)
        for node in self.plan.nodes:
            process = self.started.get(node.short)
            if node.short in held or (process is not None and process.alive()):
                continue
            env = {"KYB_TOKEN": self.token} if node.role == "agent" and self.token else {}
            if node.role == "server" or env:
                self.start(node, env)

    async def _token(self, server: ProcessRef, stop_event: asyncio.Event) -> str | None:
        """The server's join token once written; None if the server died or we stop."""
        path = token_path(self.plan)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TOKEN_TIMEOUT
        while not stop_event.is_set() and loop.time() < deadline:
            with contextlib.suppress(OSError):
                token = path.read_text().strip()
                if token:
                    return token
            if not server.alive():
                print("kyb cluster daemon: the server exited before writing its join token",
                      file=sys.stderr, flush=True)  # fmt: skip
                return None
            await asyncio.sleep(0.1)
        return None

    def _shutdown(self) -> None:
        print("kyb cluster daemon: stopping the nodes", flush=True)
        # Agents first, the server last: kubelets can still reach the API while stopping.
        order = [
            self.started[n.short] for n in reversed(self.plan.nodes) if n.short in self.started
        ]
        stop(order, grace=NODE_GRACE)
        _reap()
        sweep_namespaces(self.plan)
        _reap()


def run_daemon(plan: ClusterPlan, runtime: str, listen_fd: int) -> int:
    """`kyb cluster daemon`: the process exit status."""
    prog = "kyb cluster daemon"
    try:
        _set_subreaper()
        listener = socket.socket(fileno=listen_fd)
    except OSError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    forwarder = Forwarder(listener, NETNS_DIR / plan.server.netns, (plan.server.ip, API_PORT))
    daemon = Daemon(plan, runtime)

    async def main(stop_event: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(forwarder.serve(stop_event))
            tg.create_task(daemon.run(stop_event))

    return run_component(prog, main)
