"""The `kyb` command: argument parsing and dispatch to the subcommands.

Contract (see DESIGN.md): unknown commands and bad flags print one line
`kyb: error: …` to stderr and exit 2; a subcommand that fails at run time prints
`kyb <command>: error: …` and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from kybernetes import __version__

from .agent import add_agent_parser, run_agent_command
from .apiserver import APIServerOptions, run_apiserver
from .cluster import add_cluster_parser, run_cluster
from .controllermanager import CONTROLLERS, run_controller_manager
from .controlleroptions import add_controller_flags, controller_options
from .dns import add_dns_parser, run_dns_command
from .flagtypes import duration
from .images import add_images_parser, run_images
from .kubelet import add_kubelet_parser, run_kubelet
from .proxy import add_proxy_parser, run_proxy_command
from .scheduler import run_scheduler_command
from .server import COMPONENTS, RUNTIMES, ServerOptions, default_data_dir, run_server


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _component_list(value: str) -> frozenset[str]:
    names = frozenset(n.strip() for n in value.split(",") if n.strip())
    unknown = sorted(names - COMPONENTS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown component(s) {', '.join(unknown)} (known: {', '.join(sorted(COMPONENTS))})"
        )
    return names


def _controller_list(value: str) -> frozenset[str]:
    names = frozenset(n.strip() for n in value.split(",") if n.strip())
    if "*" in names:
        return frozenset(CONTROLLERS)
    unknown = sorted(names - CONTROLLERS.keys())
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown controller(s) {', '.join(unknown)} (known: {', '.join(CONTROLLERS)})"
        )
    return names


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) <= 0:
        raise argparse.ArgumentTypeError(f"invalid positive integer {value!r}")
    return int(value)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value!r} (0-65535)")
    return port


def _add_apiserver_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of the API server, shared by `kyb server` and `kyb apiserver`."""
    parser.add_argument("--data-dir", default=None, help="state directory")
    parser.add_argument(
        "--datastore-endpoint",
        default=None,
        help="sqlite:///PATH or etcd://HOST:PORT[,HOST:PORT...] (default: SQLite in the data dir)",
    )
    parser.add_argument("--bind-address", default="0.0.0.0", help="API server bind address")
    parser.add_argument("--https-listen-port", type=_port, default=6443, help="API server port")
    parser.add_argument(
        "--write-kubeconfig",
        default=None,
        help="admin kubeconfig path (default: DIR/kubeconfig.yaml)",
    )
    parser.add_argument(
        "--token-auth-file", default=None, help="static bearer tokens (token,user,uid,groups)"
    )
    parser.add_argument(
        "--default-watch-cache-size",
        type=_positive,
        default=20_000,
        help="recent events the watch cache keeps for watches to resume from",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kyb", description="kybernetes: Kubernetes, written in Python.")
    parser.add_argument("--version", action="version", version=f"kyb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    server = commands.add_parser(
        "server",
        help="run the control plane and a local node",
        description="Run the control plane (store, API server and the components that "
        "exist) and a local node.",
    )
    _add_apiserver_flags(server)
    server.add_argument("--node-name", default=None, help="local node name (default: hostname)")
    server.add_argument(
        "--runtime", choices=sorted(RUNTIMES), default=None, help="container runtime"
    )
    server.add_argument("--disable-agent", action="store_true", help="run no local node")
    server.add_argument("--kubelet-port", type=_port, default=10250, help="local kubelet's port")
    server.add_argument("--node-ip", default="", help="the local node's InternalIP")
    server.add_argument(
        "--disable",
        type=_component_list,
        default=frozenset(),
        help="comma-separated components not to start: " + ",".join(sorted(COMPONENTS)),
    )

    apiserver = commands.add_parser(
        "apiserver",
        help="run the API server alone",
        description="Run the API server over its store, with the cluster certificates.",
    )
    _add_apiserver_flags(apiserver)

    controller_manager = commands.add_parser(
        "controller-manager",
        help="run the controllers against an API server",
        description="Run the control loops as a client of the API server.",
    )
    controller_manager.add_argument("--kubeconfig", required=True, help="how to reach the API")
    controller_manager.add_argument(
        "--controllers",
        type=_controller_list,
        default=None,
        help="comma-separated controllers to run (default: all): " + ",".join(CONTROLLERS),
    )
    controller_manager.add_argument(
        "--leader-elect",
        choices=("true", "false"),
        default="true",
        help="run only while holding the kube-system/kube-controller-manager Lease",
    )
    add_controller_flags(controller_manager)

    scheduler = commands.add_parser(
        "scheduler",
        help="run the scheduler against an API server",
        description="Place pods on nodes, as a client of the API server.",
    )
    scheduler.add_argument("--kubeconfig", required=True, help="how to reach the API")
    scheduler.add_argument("--config", default=None, help="a KubeSchedulerConfiguration file")
    scheduler.add_argument(
        "--leader-elect",
        choices=("true", "false"),
        default="true",
        help="run only while holding the kube-system/kube-scheduler Lease",
    )
    for flag, default in (
        ("lease-duration", "15s"),
        ("renew-deadline", "10s"),
        ("retry-period", "2s"),
    ):
        scheduler.add_argument(
            f"--leader-elect-{flag}",
            type=duration,
            default=None,
            help=f"leader election {flag.replace('-', ' ')} (Go duration; default {default})",
        )
    scheduler.add_argument(
        "--metrics-bind-address",
        default="127.0.0.1:10259",
        help="HOST:PORT serving /metrics and /healthz over HTTP ('' disables)",
    )
    add_images_parser(commands)
    add_kubelet_parser(commands)
    add_proxy_parser(commands)
    add_agent_parser(commands)
    add_cluster_parser(commands)
    add_dns_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kyb` console script. Returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command in ("server", "apiserver"):
        data_dir = args.data_dir or str(default_data_dir())
    if args.command == "server":
        options = ServerOptions(
            data_dir=data_dir,
            datastore_endpoint=args.datastore_endpoint,
            bind_address=args.bind_address,
            https_listen_port=args.https_listen_port,
            write_kubeconfig=args.write_kubeconfig,
            node_name=args.node_name,
            runtime=args.runtime,
            disable_agent=args.disable_agent,
            disable=args.disable,
            watch_cache_size=args.default_watch_cache_size,
            token_auth_file=args.token_auth_file,
            kubelet_port=args.kubelet_port,
            node_ip=args.node_ip,
        )
        return run_server(options)
    if args.command == "apiserver":
        return run_apiserver(
            APIServerOptions(
                data_dir=Path(data_dir),
                datastore_endpoint=args.datastore_endpoint,
                bind_address=args.bind_address,
                port=args.https_listen_port,
                token_file=Path(args.token_auth_file) if args.token_auth_file else None,
                write_kubeconfig=Path(args.write_kubeconfig) if args.write_kubeconfig else None,
                watch_cache_size=args.default_watch_cache_size,
            )
        )
    if args.command == "scheduler":
        config = Path(args.config) if args.config else None
        return run_scheduler_command(
            Path(args.kubeconfig),
            config,
            args.leader_elect == "true",
            metrics_address=args.metrics_bind_address,
            lease_timings=(
                args.leader_elect_lease_duration,
                args.leader_elect_renew_deadline,
                args.leader_elect_retry_period,
            ),
        )
    if args.command == "images":
        return run_images(args)
    if args.command == "controller-manager":
        return run_controller_manager(
            Path(args.kubeconfig),
            args.controllers,
            args.leader_elect == "true",
            controller_options(args),
        )
    if args.command == "kubelet":
        return run_kubelet(args)
    if args.command == "proxy":
        return run_proxy_command(args)
    if args.command == "agent":
        return run_agent_command(args)
    if args.command == "cluster":
        return run_cluster(args)
    if args.command == "dns":
        return run_dns_command(args)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
