"""The `kyb` command: argument parsing and dispatch to the subcommands.

Contract (see DESIGN.md): unknown commands and bad flags print one line
`kyb: error: …` to stderr and exit 2; a subcommand that fails at run time prints
`kyb <command>: error: …` and exits 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from kybernetes import __version__

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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kyb", description="kybernetes: Kubernetes, written in Python.")
    parser.add_argument("--version", action="version", version=f"kyb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    server = commands.add_parser(
        "server",
        help="run the control plane and a local node",
        description="Run the "
        "control plane (store, API server and the components that exist) and a local node.",
    )
    server.add_argument("--data-dir", default=None, help="state directory (default: %(default)s)")
    server.add_argument(
        "--datastore-endpoint",
        default=None,
        help="sqlite:///PATH or etcd://HOST:PORT[,HOST:PORT...] (default: SQLite in the data dir)",
    )
    server.add_argument("--bind-address", default="0.0.0.0", help="API server bind address")
    server.add_argument("--https-listen-port", type=_port, default=6443, help="API server port")
    server.add_argument(
        "--write-kubeconfig",
        default=None,
        help="admin kubeconfig path (default: DIR/kubeconfig.yaml)",
    )
    server.add_argument("--node-name", default=None, help="local node name (default: hostname)")
    server.add_argument(
        "--runtime", choices=sorted(RUNTIMES), default=None, help="container runtime"
    )
    server.add_argument("--disable-agent", action="store_true", help="run no local node")
    server.add_argument(
        "--default-watch-cache-size",
        type=_positive,
        default=20_000,
        help="recent events the watch cache keeps for watches to resume from",
    )
    server.add_argument(
        "--disable",
        type=_component_list,
        default=frozenset(),
        help="comma-separated components not to start: " + ",".join(sorted(COMPONENTS)),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kyb` console script. Returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "server":
        options = ServerOptions(
            data_dir=args.data_dir or str(default_data_dir()),
            datastore_endpoint=args.datastore_endpoint,
            bind_address=args.bind_address,
            https_listen_port=args.https_listen_port,
            write_kubeconfig=args.write_kubeconfig,
            node_name=args.node_name,
            runtime=args.runtime,
            disable_agent=args.disable_agent,
            disable=args.disable,
            watch_cache_size=args.default_watch_cache_size,
        )
        return run_server(options)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
