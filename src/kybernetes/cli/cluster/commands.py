"""The `kyb cluster` actions: create, delete, list, load, stop-node, start-node.

`create` plans the cluster (`plan.plan`), records it, builds its network
(`netns.setup_network`), binds the host's loopback port, and starts the cluster's
daemon (`daemon.py`) detached with that socket; then it waits — up to `--wait` seconds
— for the API through the forwarder, writes the host kubeconfig (the server's admin
credentials, server https://127.0.0.1:PORT), and waits for every node to be Ready. On
any failure it removes everything it made (`teardown.teardown`) and exits 1.

create, delete, stop-node and start-node need root (namespaces, setns); list and load
only access to the cluster directory. Errors are one line `kyb cluster: error: …` and
exit status 1.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kybernetes.client import APIClient, RestConfig, load_kubeconfig, write_kubeconfig
from kybernetes.client.resource import NODES

from ..supervisor import kyb_command
from . import registry
from .netns import ClusterError, existing_namespaces, netns_inode, setup_network
from .plan import ClusterPlan, NodePlan, plan
from .processes import in_namespaces, ref, stop
from .teardown import teardown

PROG = "kyb cluster"


def default_kubeconfig(name: str) -> Path:
    return Path.home() / ".kube" / f"kyb-{name}.yaml"


def _require_root() -> None:
    if os.geteuid() != 0:
        raise ClusterError("must run as root (network namespaces)")


def _listener(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _node_ready(node: dict[str, Any]) -> bool:
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def wait_ready(rest: RestConfig, nodes: set[str], deadline: float) -> None:
    """Waits until every node of `nodes` is registered and Ready. ClusterError when
    the deadline (time.monotonic) passes."""
    missing, problem = set(nodes), ""
    async with APIClient(rest, component="kyb-cluster") as client:
        while True:
            try:
                listed = await client.list(NODES)
            except Exception as e:  # the API is not serving yet (or the forwarder): wait
                problem = f" (last error: {e})"
            else:
                ready = {n["metadata"]["name"] for n in listed["items"] if _node_ready(n)}
                missing, problem = nodes - ready, ""
                if not missing:
                    return
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"nodes not Ready in time: {', '.join(sorted(missing))}{problem}"
                )
            await asyncio.sleep(0.5)


def _wait_admin_kubeconfig(p: ClusterPlan, daemon_pid: int, deadline: float) -> RestConfig:
    path = p.server.data_dir / "kubeconfig.yaml"
    while True:
        if path.exists():
            try:
                return load_kubeconfig(path)
            except (OSError, ValueError):
                pass  # being written
        daemon = ref(daemon_pid)
        if daemon is None:
            raise ClusterError("the cluster daemon exited")
        if time.monotonic() >= deadline:
            raise ClusterError("the API server did not start in time")
        time.sleep(0.2)


def _log_tail(p: ClusterPlan, lines: int = 15) -> str:
    out = []
    for log in sorted(p.log_dir.glob("*.log")) if p.log_dir.is_dir() else []:
        text = log.read_text(errors="replace").splitlines()[-lines:]
        out.append(f"--- {log.name}\n" + "\n".join(text))
    return "\n".join(out)


def create(
    name: str, agents: int, base: Path, kubeconfig: Path, runtime: str, port: int, wait: float
) -> int:
    """`kyb cluster create`; the exit status."""
    _require_root()
    p = plan(name, agents, base)
    taken = existing_namespaces() & set(p.namespaces)
    if registry.load(name, base) is not None or taken or p.directory.exists():
        raise ClusterError(f"cluster {name!r} already exists (kyb cluster delete --name {name})")
    deadline = time.monotonic() + wait
    listener = _listener(port)
    record = registry.ClusterRecord(
        name=name, agents=agents, runtime=runtime, port=listener.getsockname()[1],
        kubeconfig=str(kubeconfig), created=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    p.log_dir.mkdir(parents=True, exist_ok=True)
    registry.save(record, base)
    try:
        setup_network(p)
        with open(p.log_dir / "daemon.log", "ab") as log:
            argv = kyb_command("cluster", "daemon", "--name", name, "--data-dir", str(base),
                               "--listen-fd", str(listener.fileno()))  # fmt: skip
            daemon = subprocess.Popen(
                argv, pass_fds=(listener.fileno(),), start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        listener.close()
        record = replace(record, daemon=ref(daemon.pid))
        registry.save(record, base)
        admin = _wait_admin_kubeconfig(p, daemon.pid, deadline)
        host = replace(admin, server=f"https://127.0.0.1:{record.port}")
        write_kubeconfig(kubeconfig, host, name=f"kyb-{name}")  # 0600
        asyncio.run(wait_ready(host, {n.node_name for n in p.nodes}, deadline))
    except (ClusterError, OSError, ValueError, KeyboardInterrupt) as e:
        listener.close()
        print(f"{PROG}: error: creating {name}: {e}\n{_log_tail(p)}", file=sys.stderr)
        current = registry.load(name, base) or record
        teardown(p, current.daemon, list(current.processes.values()), kubeconfig)
        return 1
    print(f"{PROG}: cluster {name} is ready: {len(p.nodes)} node(s), API at "
          f"https://127.0.0.1:{record.port}")  # fmt: skip
    print(f"{PROG}: kubeconfig written to {kubeconfig}")
    return 0


def delete(name: str, base: Path) -> int:
    """`kyb cluster delete`; the exit status. Deleting an absent cluster is an error
    unless traces of it (namespaces, its directory) remain, which are removed."""
    _require_root()
    record = registry.load(name, base)
    if record is None:
        p = plan(name, 0, base)
        pattern = re.compile(rf"kyb-{re.escape(name)}-agent(\d+)")
        found = [pattern.fullmatch(n) for n in existing_namespaces()]
        if p.directory.is_dir():
            found += [re.fullmatch(r"agent(\d+)", d.name) for d in p.directory.iterdir()]
        agents = max((int(m[1]) for m in found if m), default=0)
        traces = agents or set(p.namespaces) & existing_namespaces() or p.directory.exists()
        if not traces:
            raise ClusterError(f"no cluster named {name!r}")
        errors = teardown(plan(name, agents, base), None, [], None)
    else:
        kubeconfig = Path(record.kubeconfig) if record.kubeconfig else None
        processes = list(record.processes.values())
        errors = teardown(record.plan(base), record.daemon, processes, kubeconfig)
    for error in errors:
        print(f"{PROG}: error: {error}", file=sys.stderr)
    if errors:
        return 1
    print(f"{PROG}: deleted cluster {name}")
    return 0


def list_clusters(base: Path) -> int:
    """`kyb cluster list`: one line per cluster."""
    rows = [("NAME", "NODES", "STATE", "API", "KUBECONFIG")]
    for name in registry.names(base):
        try:
            record = registry.load(name, base)
        except ValueError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            continue
        if record is None:
            continue
        p = record.plan(base)
        nodes = ",".join(n.node_name for n in p.nodes)
        api = f"https://127.0.0.1:{record.port}"
        rows.append((name, nodes, record.state(len(p.nodes)), api, record.kubeconfig))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("   ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return 0


def load(name: str, base: Path, archive: Path) -> int:
    """`kyb cluster load`: imports `archive` into every node's image store."""
    record = registry.load(name, base)
    if record is None:
        raise ClusterError(f"no cluster named {name!r}")
    if not archive.is_file():
        raise ClusterError(f"{archive}: no such file")
    status = 0
    imports = [
        (node, subprocess.Popen(
            kyb_command("images", "import", "--data-dir", str(node.data_dir), str(archive)),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
        for node in record.plan(base).nodes
    ]  # fmt: skip
    for node, process in imports:  # all nodes at once: each import is its own process
        out, err = process.communicate()
        if process.returncode != 0:
            print(f"{PROG}: error: {node.node_name}: {err.strip()}", file=sys.stderr)
            status = 1
        else:
            print(f"{node.node_name}: {out.strip()}")
    return status


def _node(record: registry.ClusterRecord, base: Path, node: str) -> NodePlan:
    for n in record.plan(base).nodes:
        if node in (n.short, n.node_name):
            return n
    raise ClusterError(f"cluster {record.name!r} has no node {node!r}")


def stop_node(name: str, base: Path, node: str) -> int:
    """`kyb cluster stop-node`: stops every process of the node (SIGTERM, then SIGKILL)
    and holds it stopped, as powering a machine off would; its namespace stays."""
    _require_root()
    record = registry.load(name, base)
    if record is None:
        raise ClusterError(f"no cluster named {name!r}")
    n = _node(record, base, node)
    directory = record.plan(base).directory
    registry.hold_stopped(directory, registry.held_stopped(directory) | {n.short})
    inode = netns_inode(n.netns)
    survivors = stop(in_namespaces([inode] if inode is not None else []), grace=15.0)
    if survivors:
        raise ClusterError(f"processes {', '.join(str(p.pid) for p in survivors)} would not stop")
    print(f"{PROG}: stopped node {n.node_name}")
    return 0


def start_node(name: str, base: Path, node: str, wait: float = 30.0) -> int:
    """`kyb cluster start-node`: releases the node and has the daemon start it again;
    returns once its process runs."""
    _require_root()
    record = registry.load(name, base)
    if record is None:
        raise ClusterError(f"no cluster named {name!r}")
    n = _node(record, base, node)
    if record.daemon is None or not record.daemon.alive():
        raise ClusterError(f"cluster {name!r} is not running (no daemon)")
    directory = record.plan(base).directory
    registry.hold_stopped(directory, registry.held_stopped(directory) - {n.short})
    os.kill(record.daemon.pid, signal.SIGHUP)
    deadline = time.monotonic() + wait
    while True:
        current = registry.load(name, base)
        process = current.processes.get(n.short) if current is not None else None
        if process is not None and process.alive():
            print(f"{PROG}: started node {n.node_name} (pid {process.pid})")
            return 0
        if time.monotonic() >= deadline:
            raise ClusterError(f"node {n.node_name} did not start")
        time.sleep(0.1)
