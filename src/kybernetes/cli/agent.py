"""`kyb agent`: a worker node that joins a cluster with its join token.

Start-up (`join`): read the cluster CA from `GET /kyb/v1/cacerts` over unverified TLS,
check it against the token's CA hash (a bare-secret token cannot be checked: a warning
is printed), then `POST /kyb/v1/join` over TLS verified by that CA with the secret as
bearer token; the answer is this node's client certificate (`system:node:NAME`) and
kubelet serving certificate. Both are written under DATA_DIR/agent/ (keys 0600) with a
kubeconfig trusting the CA, then the kubelet (`cli.kubelet.serve_kubelet`) and, when
the tree has it, the service proxy (`cli.proxy.run_proxy`) run until SIGINT/SIGTERM.

Invariants: the secret is only ever sent over TLS verified against the CA the token
vouches for; an unreachable server is retried (backoff 0.5 s doubling to 5 s) until a
signal, a rejected token (401) or a CA mismatch is one line and exit status 1; a
crashing proxy is restarted with the same backoff and never takes the kubelet down.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import ipaddress
import json
import os
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from kybernetes.apiserver.join import CACERTS_PATH, JOIN_PATH, JoinToken
from kybernetes.client import RestConfig, write_kubeconfig

from .apiserver import run_component
from .kubelet import RUNTIME_NAMES, KubeletOptions, serve_kubelet

INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 5.0


class JoinRejected(Exception):
    """The server refused the join (bad token, bad request) or sent a CA the token
    does not vouch for: retrying cannot help."""


@dataclass(frozen=True)
class AgentOptions:
    """The flags of `kyb agent`."""

    server: str
    token: str
    data_dir: Path
    node_name: str = ""
    node_ip: str = ""
    runtime: str = ""
    kubelet_port: int = 10250
    disable_kube_proxy: bool = False
    cluster_cidr: str = "10.42.0.0/16"
    cluster_dns: tuple[str, ...] = ()
    cluster_domain: str = "cluster.local"


@dataclass(frozen=True)
class Credentials:
    """What a successful join leaves on disk, and the connection it makes."""

    rest: RestConfig
    kubeconfig: Path
    serving_cert: Path
    serving_key: Path
    ca_cert: Path


async def fetch_ca(session: aiohttp.ClientSession, server: URL, token: JoinToken) -> bytes:
    """The cluster CA, verified against the token's hash. JoinRejected on mismatch."""
    async with session.get(server / CACERTS_PATH.lstrip("/"), ssl=False) as response:
        if response.status != 200:
            raise JoinRejected(f"GET {CACERTS_PATH}: HTTP {response.status}")
        ca_pem = await response.read()
    try:
        token.verify_ca(ca_pem)
    except ValueError as e:
        raise JoinRejected(str(e)) from None
    return ca_pem


async def request_join(
    session: aiohttp.ClientSession,
    server: URL,
    token: JoinToken,
    ca_pem: bytes,
    node: str,
    addresses: list[str],
) -> dict[str, str]:
    """POSTs the join request over TLS verified by `ca_pem`; the server's answer.
    JoinRejected on a 4xx answer."""
    context = ssl.create_default_context(cadata=ca_pem.decode("ascii"))
    async with session.post(
        server / JOIN_PATH.lstrip("/"),
        json={"nodeName": node, "addresses": addresses},
        headers={"Authorization": f"Bearer {token.secret}"},
        ssl=context,
    ) as response:
        body = await response.read()
        if 400 <= response.status < 500:
            message = _status_message(body)
            raise JoinRejected(f"POST {JOIN_PATH}: HTTP {response.status}: {message}")
        response.raise_for_status()
        answer: dict[str, str] = json.loads(body)
    return answer


def _status_message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        return body.decode(errors="replace")[:200]


def write_credentials(directory: Path, server: str, answer: dict[str, str]) -> Credentials:
    """Writes the CA, the serving pair and a kubeconfig (with the client pair inline)
    under `directory` (0700; keys 0600). KeyError/OSError on a bad answer or disk."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    files = {
        "ca.crt": (answer["caCert"], 0o644),
        "kubelet.crt": (answer["servingCert"], 0o644),
        "kubelet.key": (answer["servingKey"], 0o600),
    }
    for name, (text, mode) in files.items():
        path = directory / name
        path.touch(mode=mode)
        path.chmod(mode)
        path.write_text(text)
    rest = RestConfig(
        server=server,
        ca_pem=answer["caCert"].encode(),
        client_cert_pem=answer["clientCert"].encode(),
        client_key_pem=answer["clientKey"].encode(),
    )
    kubeconfig = directory / "kubeconfig.yaml"
    write_kubeconfig(kubeconfig, rest)  # 0600
    return Credentials(
        rest, kubeconfig, directory / "kubelet.crt", directory / "kubelet.key", directory / "ca.crt"
    )


def outbound_address(server: URL) -> str:
    """The local address this host uses to reach `server` (the node's InternalIP)."""
    host, port = server.host or "127.0.0.1", server.port or 6443
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.connect((host, port))  # UDP: no packet is sent
        return str(probe.getsockname()[0])


async def join(options: AgentOptions, node: str, node_ip: str) -> Credentials:
    """Joins the cluster (see the module docstring), retrying while the server is
    unreachable. JoinRejected when the server or the CA check says no."""
    token = JoinToken.parse(options.token)
    if not token.ca_hash:
        print("kyb agent: warning: bare-secret token, the server's CA is not verified",
              file=sys.stderr, flush=True)  # fmt: skip
    server = URL(options.server)
    addresses = list(dict.fromkeys([node_ip, node]))
    backoff = INITIAL_BACKOFF
    timeout = aiohttp.ClientTimeout(total=30)
    while True:
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                ca_pem = await fetch_ca(session, server, token)
                answer = await request_join(session, server, token, ca_pem, node, addresses)
            break
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            print(f"kyb agent: cannot join {server} yet ({e}); retrying in {backoff:g}s",
                  file=sys.stderr, flush=True)  # fmt: skip
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
    directory = options.data_dir / "agent"
    return await asyncio.to_thread(write_credentials, directory, options.server, answer)


async def _keep_running(name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Runs `run()` again after each failure (backoff as for joining) until cancelled."""
    backoff = INITIAL_BACKOFF
    while True:
        try:
            await run()
            return
        except Exception as e:
            print(f"kyb agent: {name} failed ({e}); restarting in {backoff:g}s",
                  file=sys.stderr, flush=True)  # fmt: skip
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)


def proxy_runner(
    rest: RestConfig, node: str, cluster_cidr: str
) -> Callable[[], Awaitable[None]] | None:
    """The service proxy's coroutine factory, or None when the tree has no `cli.proxy`."""
    try:
        proxy: Any = importlib.import_module("kybernetes.cli.proxy")
    except ImportError:
        return None
    options = proxy.ProxyOptions(node_name=node, cluster_cidr=cluster_cidr)

    async def run() -> None:
        await proxy.run_proxy(rest, options)

    return run


async def serve_agent(options: AgentOptions, stop: asyncio.Event) -> None:
    """Joins, then runs the node's components until `stop` is set."""
    node = options.node_name or socket.gethostname().lower()
    node_ip = options.node_ip or await asyncio.to_thread(outbound_address, URL(options.server))
    joining = asyncio.create_task(join(options, node, node_ip))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({joining, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        joining.cancel()
        stopping.cancel()
        await asyncio.gather(joining, stopping, return_exceptions=True)
    if joining.cancelled():
        return  # stopped before joining
    credentials = joining.result()
    print(f"kyb agent: joined {options.server} as node {node} ({node_ip}); "
          f"kubeconfig written to {credentials.kubeconfig}", flush=True)  # fmt: skip
    kubelet = KubeletOptions(
        data_dir=options.data_dir,
        node_name=node,
        node_ip=node_ip,
        runtime=options.runtime,
        port=options.kubelet_port,
        tls=(credentials.serving_cert, credentials.serving_key, credentials.ca_cert),
        cluster_dns=options.cluster_dns,
        cluster_domain=options.cluster_domain,
    )
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(serve_kubelet(credentials.rest, kubelet))]
        proxy = None if options.disable_kube_proxy else proxy_runner(
            credentials.rest, node, options.cluster_cidr
        )  # fmt: skip
        if proxy is not None:
            tasks.append(tg.create_task(_keep_running("kube-proxy", proxy)))
        await stop.wait()
        for task in tasks:
            task.cancel()


def add_agent_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """`kyb agent` and its flags."""
    agent = commands.add_parser(
        "agent",
        help="run a worker node that joins a cluster",
        description="Join a cluster with its token and run this node's kubelet and proxy.",
    )
    add = agent.add_argument
    add("--server", required=True, help="the API server, https://HOST:PORT")
    add("--token", default=os.environ.get("KYB_TOKEN"), required="KYB_TOKEN" not in os.environ,
        help="join token (kyb server's DATA_DIR/server/token; default: $KYB_TOKEN)")  # fmt: skip
    add("--node-name", default="", help="node name (default: hostname)")
    add("--node-ip", default="", help="the node's InternalIP (default: the route to the server)")
    add("--runtime", choices=RUNTIME_NAMES, default=None, help="container runtime")
    add("--data-dir", default=None, help="state directory")
    add("--kubelet-port", type=int, default=10250, help="kubelet API port")
    add("--cluster-cidr", default="10.42.0.0/16", help="the pod network (for the proxy)")
    add("--disable-kube-proxy", action="store_true", help="run no service proxy")
    add("--cluster-dns", default="", help="comma-separated DNS server IPs for the pods")
    add("--cluster-domain", default="cluster.local")


def run_agent_command(args: argparse.Namespace) -> int:
    """`kyb agent` from its parsed flags; the process exit status."""
    from .server import default_data_dir

    prog = "kyb agent"
    try:
        server = URL(args.server)
        if server.scheme != "https" or not server.host:
            raise ValueError(f"--server must be https://HOST[:PORT], not {args.server!r}")
        JoinToken.parse(args.token)
        dns = tuple(ip.strip() for ip in args.cluster_dns.split(",") if ip.strip())
        for ip in (args.node_ip, *dns) if args.node_ip else dns:
            ipaddress.ip_address(ip)
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    options = AgentOptions(
        server=str(server),
        token=args.token,
        data_dir=Path(args.data_dir) if args.data_dir else default_data_dir(),
        node_name=args.node_name,
        node_ip=args.node_ip,
        runtime=args.runtime or "",
        kubelet_port=args.kubelet_port,
        disable_kube_proxy=args.disable_kube_proxy,
        cluster_cidr=args.cluster_cidr,
        cluster_dns=dns,
        cluster_domain=args.cluster_domain,
    )

    async def main(stop: asyncio.Event) -> None:
        try:
            await serve_agent(options, stop)
        except (JoinRejected, KeyError) as e:
            raise ValueError(f"joining {options.server} failed: {e}") from None

    return run_component(prog, main)
