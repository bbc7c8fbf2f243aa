"""`kyb cluster`: local multi-node clusters on one Linux machine (as kind or k3d make
them with containers), each node in its own network namespace.

Modules: `plan` (the layout, pure), `netns` (namespaces, bridge, veths), `forwarder`
(the host-loopback → server-namespace TCP forwarder), `processes` (finding and stopping
processes), `daemon` (the per-cluster host process: forwarder, node processes,
reaping), `registry` (the on-disk record), `teardown` (removing every trace),
`commands` (create, delete, list, load).

    kyb cluster create --name N [--agents K] [--kubeconfig PATH] [--runtime oci|process]
    kyb cluster delete --name N
    kyb cluster list
    kyb cluster load --name N FILE.tar
    kyb cluster stop-node --name N NODE | start-node --name N NODE
    kyb cluster daemon --name N --listen-fd FD        (internal: started by create)

All take `--data-dir DIR` (default /var/lib/kybernetes/clusters).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .netns import ClusterError
from .plan import DEFAULT_BASE

RUNTIMES = ("oci", "process")


def add_cluster_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """`kyb cluster` and its actions."""
    cluster = commands.add_parser(
        "cluster",
        help="create and delete local multi-node clusters",
        description="Local multi-node clusters, each node in its own network namespace.",
    )
    actions = cluster.add_subparsers(dest="cluster_command", metavar="ACTION")
    actions.required = True

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(
            name, help=help_text, description=help_text[0].upper() + help_text[1:] + "."
        )
        parser.add_argument("--data-dir", default=str(DEFAULT_BASE), help="clusters' directory")
        return parser

    create = action("create", "create a cluster")
    create.add_argument("--name", required=True)
    create.add_argument("--agents", type=int, default=0, help="worker nodes (default 0)")
    create.add_argument("--kubeconfig", default=None, help="default: ~/.kube/kyb-NAME.yaml")
    create.add_argument("--runtime", choices=RUNTIMES, default=None,
                        help="container runtime (default: oci with runc, or process)")  # fmt: skip
    create.add_argument("--api-port", type=int, default=0, help="host port (default: any)")
    create.add_argument("--wait", type=float, default=180.0, help="seconds to wait for Ready")
    delete = action("delete", "delete a cluster and every trace of it")
    delete.add_argument("--name", required=True)
    action("list", "list the clusters")
    load = action("load", "import an image tarball into every node")
    load.add_argument("--name", required=True)
    load.add_argument("archive", metavar="FILE.tar")
    for verb, text in (("stop", "stop a node's processes (and hold it stopped)"),
                       ("start", "start a stopped node again")):  # fmt: skip
        node = action(f"{verb}-node", text)
        node.add_argument("--name", required=True)
        node.add_argument("node", metavar="NODE", help="e.g. agent1 or NAME-agent1")
    daemon = action("daemon", "run a cluster's daemon (started by create)")
    daemon.add_argument("--name", required=True)
    daemon.add_argument("--listen-fd", type=int, required=True)


def run_cluster(args: argparse.Namespace) -> int:
    """Runs the parsed `kyb cluster` action; the exit status."""
    from ..kubelet import default_runtime
    from . import commands, daemon, registry

    base = Path(args.data_dir)
    try:
        if args.cluster_command == "create":
            kubeconfig = Path(args.kubeconfig or commands.default_kubeconfig(args.name))
            runtime = args.runtime or default_runtime()
            return commands.create(
                args.name, args.agents, base, kubeconfig, runtime, args.api_port, args.wait
            )
        if args.cluster_command == "delete":
            return commands.delete(args.name, base)
        if args.cluster_command == "list":
            return commands.list_clusters(base)
        if args.cluster_command == "load":
            return commands.load(args.name, base, Path(args.archive))
        if args.cluster_command == "stop-node":
            return commands.stop_node(args.name, base, args.node)
        if args.cluster_command == "start-node":
            return commands.start_node(args.name, base, args.node)
        record = registry.load(args.name, base)
        if record is None:
            raise ClusterError(f"no cluster named {args.name!r}")
        return daemon.run_daemon(record.plan(base), record.runtime, args.listen_fd)
    except (ClusterError, ValueError, OSError) as e:
        print(f"kyb cluster: error: {e}", file=sys.stderr)
        return 1
