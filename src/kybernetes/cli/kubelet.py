"""`kyb kubelet`: the node agent, as a client of the API.

`serve_kubelet(rest, options)` builds the runtime, the node agent(s) and the
`kubelet.kubelet.Kubelet` around them, and runs them until cancelled. With
`--runtime simulated --simulate-nodes N` one process serves N simulated nodes named
NODE-0 … NODE-(N-1) (pod CIDRs 10.64.0.0/24, 10.64.1.0/24, …), kwok-style: one pod
informer dispatched by spec.nodeName, batched heartbeats, no events.

Runtimes are imported lazily by name (`oci`, `process` are separate modules); the
default is oci as root with runc on PATH, else process. Real runtimes get the volume
manager and the environment builder; the kubelet's HTTPS server (port 10250) runs
when it is given a serving certificate (`kyb server` issues one from the cluster CA).
`kyb server` runs `serve_kubelet` for its local node with the admin connection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kybernetes.apiserver.pki import PKI
from kybernetes.client import (
    APIClient,
    APIError,
    Clock,
    EventRecorder,
    Informer,
    RestConfig,
    SystemClock,
    is_already_exists,
    load_kubeconfig,
)
from kybernetes.client.resource import CONFIGMAPS, NODES, SECRETS, SERVICES
from kybernetes.kubelet.agent import NodeAgent
from kybernetes.kubelet.config import KubeletConfig
from kybernetes.kubelet.kubelet import Kubelet
from kybernetes.kubelet.logmanager import termination_message
from kybernetes.kubelet.nodestatus import Machine, hostname, node_object
from kybernetes.kubelet.routesync import RouteSyncer
from kybernetes.kubelet.runtime.interface import (
    ContainerStatus,
    ImageService,
    PodSandboxStatus,
    RuntimeService,
)
from kybernetes.kubelet.runtime.simulated import DEFAULT_POD_CIDR, SimulatedRuntime

from .apiserver import run_component

RUNTIME_NAMES = ("oci", "process", "simulated")


@dataclass(frozen=True)
class KubeletOptions:
    """The flags of `kyb kubelet`."""

    data_dir: Path
    node_name: str = ""
    node_ip: str = "127.0.0.1"
    runtime: str = ""
    simulate_nodes: int = 0
    pod_manifest_path: Path | None = None
    port: int = 10250
    pod_cidr: str = ""
    max_pods: int = 110
    start_delay: float = 0.0
    tls: tuple[Path, Path, Path] | None = None  # cert, key, client CA
    cluster_dns: tuple[str, ...] = ()
    cluster_domain: str = "cluster.local"
    node_labels: dict[str, str] = field(default_factory=dict)


def default_runtime() -> str:
    return "oci" if os.geteuid() == 0 and shutil.which("runc") else "process"


def make_runtime(
    name: str, data_dir: Path, pod_cidr: str, clock: Clock, start_delay: float = 0.0
) -> tuple[RuntimeService, ImageService]:
    """The runtime called `name` and its image service; state under DATA_DIR/runtime/NAME,
    images under DATA_DIR/images. The real runtimes are imported only when asked for."""
    if name == "simulated":
        simulated = SimulatedRuntime(
            clock=clock, pod_cidr=pod_cidr or DEFAULT_POD_CIDR, start_delay=start_delay
        )
        return simulated, simulated
    store_module: Any = importlib.import_module("kybernetes.kubelet.images.store")
    service_module: Any = importlib.import_module("kybernetes.kubelet.images.service")
    store = store_module.ImageStore(data_dir / "images")
    images: ImageService = service_module.LocalImageService(store)
    root = data_dir / "runtime" / name
    runtime: RuntimeService
    if name == "process":
        module: Any = importlib.import_module("kybernetes.kubelet.runtime.process")
        runtime = module.ProcessRuntime(root, clock, images=store)
    elif name == "oci":
        module = importlib.import_module("kybernetes.kubelet.runtime.oci.runtime")
        runtime = module.OciRuntime(root, store, pod_cidr=pod_cidr or DEFAULT_POD_CIDR, clock=clock)
    else:
        raise ValueError(f"unknown runtime {name!r}")
    return runtime, images


async def assigned_pod_cidr(
    client: APIClient, config: KubeletConfig, clock: Clock, wait: float = 10.0
) -> str:
    """The pod CIDR node IPAM gives this node: registers the Node (if it is not yet)
    and waits up to `wait` seconds for its spec.podCIDR; "" if none comes (the
    runtime's default range is used then)."""
    try:
        await client.create(NODES, node_object(config, Machine.probe(config.data_dir)))
    except APIError as e:
        if not is_already_exists(e):
            raise
    deadline = clock.now() + wait
    while True:
        node = await client.get(NODES, config.node_name)
        cidr = str((node.get("spec") or {}).get("podCIDR") or "")
        if cidr or clock.now() >= deadline:
            return cidr
        await clock.sleep(0.5)


def _simulated_cidr(index: int) -> str:
    return f"10.{64 + index // 256}.{index % 256}.0/24"


def _configs(options: KubeletOptions) -> list[KubeletConfig]:
    name = options.node_name or hostname()
    common: dict[str, Any] = {
        "data_dir": options.data_dir, "node_ip": options.node_ip, "port": options.port,
        "max_pods": options.max_pods, "cluster_dns": options.cluster_dns,
        "pod_manifest_path": options.pod_manifest_path, "node_labels": options.node_labels,
        "cluster_domain": options.cluster_domain,
    }  # fmt: skip
    if options.simulate_nodes <= 0:
        return [KubeletConfig(node_name=name, pod_cidr=options.pod_cidr, **common)]
    capacity = {"cpu": "32", "memory": "256Gi", "ephemeral-storage": "1Ti"}
    labels = {"type": "kwok", **options.node_labels}
    return [
        KubeletConfig(
            **{**common, "node_labels": labels},
            node_name=f"{name}-{i}",
            pod_cidr=_simulated_cidr(i),
            capacity=capacity,
            resolv_conf=None,
        )
        for i in range(options.simulate_nodes)
    ]


def _real_agent(
    config: KubeletConfig,
    runtime: RuntimeService,
    images: ImageService,
    client: APIClient,
    clock: Clock,
    recorder: EventRecorder,
    services: Any,
) -> NodeAgent:
    envvars: Any = importlib.import_module("kybernetes.kubelet.envvars")
    manager_module: Any = importlib.import_module("kybernetes.kubelet.volumes.manager")

    async def getter(resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        kinds = {"configmaps": CONFIGMAPS, "secrets": SECRETS}
        try:
            found: dict[str, Any] = await client.get(kinds[resource], name, namespace)
        except Exception as e:  # NotFound and friends: the caller reports it
            if getattr(e, "code", 0) == 404:
                return None
            raise
        return found

    volumes = manager_module.VolumeManager(
        config.root, getter, clock=clock, cluster_domain=config.cluster_domain
    )
    paths: dict[str, Any] = {}

    async def setup(pod: dict[str, Any]) -> None:
        paths[pod["metadata"]["uid"]] = await volumes.setup(pod)

    async def teardown(uid: str) -> None:
        paths.pop(uid, None)
        await volumes.teardown(uid)

    async def env(
        pod: dict[str, Any], container: dict[str, Any], pod_ip: str
    ) -> list[tuple[str, str]]:
        namespace = pod["metadata"]["namespace"]
        links = envvars.service_env(services.indexer.list(), namespace)
        result: list[tuple[str, str]] = await envvars.container_env(
            pod, container, getter, links, pod_ips=[pod_ip] if pod_ip else [],
            host_ips=[config.node_ip],
        )  # fmt: skip
        return result

    async def mounts(
        pod: dict[str, Any], container: dict[str, Any], envs: Any, pod_ip: str, attempt: int
    ) -> Any:
        uid = pod["metadata"]["uid"]
        if uid not in paths:
            await setup(pod)
        return volumes.container_mounts(
            pod,
            container,
            paths[uid],
            env=envs,
            pod_ips=[pod_ip] if pod_ip else [],
            attempt=attempt,
        )

    agent = NodeAgent(config, runtime, images, client, clock, Machine.probe(config.data_dir),
                      recorder=recorder, env=env, mounts=mounts)  # fmt: skip
    agent.workers.hooks.setup_volumes = setup
    agent.workers.hooks.teardown_volumes = teardown

    def message(
        pod: dict[str, Any],
        spec: dict[str, Any],
        exited: ContainerStatus,
        sandbox: PodSandboxStatus,
    ) -> str:
        uid = pod["metadata"]["uid"]
        message_file = volumes.termination_log(uid, exited.name, exited.attempt)
        log_file = Path(sandbox.config.log_directory) / exited.log_path if exited.log_path else None
        policy = spec.get("terminationMessagePolicy") or "File"
        return termination_message(message_file, log_file, policy, exited.exit_code)

    agent.workers.hooks.termination_message = message
    return agent


@contextlib.asynccontextmanager
async def _kubelet_server(options: KubeletOptions, agent: NodeAgent) -> AsyncIterator[None]:
    """The kubelet's HTTPS API while the block runs, when certificates were given."""
    if options.tls is None:
        yield
        return
    server: Any = importlib.import_module("kybernetes.kubelet.server")
    cert, key, ca = options.tls
    context = server.serving_ssl_context(str(cert), str(key), str(ca))
    bind = "127.0.0.1" if options.node_ip.startswith("127.") else "0.0.0.0"

    async def pods() -> list[dict[str, Any]]:
        return [r.pod for r in agent.workers.records.values() if r.pod is not None]

    logs = str(agent.config.root / "logs")
    async with server.KubeletServer(bind, options.port, context, agent.runtime, logs, pods=pods):
        yield


async def serve_kubelet(
    rest: RestConfig, options: KubeletOptions, *, clock: Clock | None = None
) -> None:
    """Runs the kubelet (one node, or N simulated ones) until cancelled."""
    clock = clock or SystemClock()
    runtime_name = options.runtime or default_runtime()
    simulated = runtime_name == "simulated"
    configs = _configs(
        options if simulated else KubeletOptions(**{**options.__dict__, "simulate_nodes": 0})
    )
    async with APIClient(rest, component="kubelet", max_connections=64) as client:
        extra: list[Any] = []
        if simulated:
            agents = [
                NodeAgent(
                    c,
                    *make_runtime("simulated", c.data_dir, c.pod_cidr, clock, options.start_delay),
                    client,
                    clock,
                    Machine.simulated(c.node_name),
                    network=False,
                )
                for c in configs
            ]
        else:
            config = configs[0]
            if not config.pod_cidr and runtime_name == "oci":  # its CNI network needs one
                config = replace(config, pod_cidr=await assigned_pod_cidr(client, config, clock))
            runtime, images = make_runtime(runtime_name, config.data_dir, config.pod_cidr, clock)
            recorder = EventRecorder(client, "kubelet", config.node_name, clock=clock)
            services = Informer(client, SERVICES, clock=clock)
            extra = [recorder, services]
            if runtime_name == "oci":  # pods on other nodes are reached via their node
                extra.append(RouteSyncer(client, config.node_name, clock=clock))
            agents = [_real_agent(config, runtime, images, client, clock, recorder, services)]
        workers = 64 if simulated else 16
        kubelet = Kubelet(
            client, agents, clock=clock, workers=workers, extra=extra,
        )  # fmt: skip
        async with _kubelet_server(options, agents[0]):
            await kubelet.run()


def run_kubelet_command(kubeconfig: Path, options: KubeletOptions) -> int:
    """`kyb kubelet`: returns the process exit status."""
    prog = "kyb kubelet"
    try:
        rest = load_kubeconfig(kubeconfig)
        if options.runtime and options.runtime not in RUNTIME_NAMES:
            raise ValueError(f"unknown runtime {options.runtime!r}")
        if options.simulate_nodes and (options.runtime or default_runtime()) != "simulated":
            raise ValueError("--simulate-nodes needs --runtime simulated")
    except (OSError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1

    async def main(stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(serve_kubelet(rest, options))
            nodes = options.simulate_nodes or 1
            runtime = options.runtime or default_runtime()
            print(
                f"{prog}: running {nodes} node(s) with the {runtime} runtime",
                flush=True,
            )
            await stop.wait()
            running.cancel()

    return run_component(prog, main)


def local_kubelet_options(
    pki: PKI, data_dir: Path, node: str, runtime: str | None, port: int
) -> KubeletOptions:
    """`kyb server`'s local node: loopback address, a serving certificate for the
    kubelet API issued by the cluster CA (once), clients checked against that CA."""
    cert, key = pki.directory / "kubelet.crt", pki.directory / "kubelet.key"
    if not (cert.exists() and key.exists()):
        issued = pki.certificate_authority().issue_serving(node, [node, "localhost", "127.0.0.1"])
        key.write_bytes(issued.key_pem)
        key.chmod(0o600)
        cert.write_bytes(issued.cert_pem)
    return KubeletOptions(
        data_dir=data_dir,
        node_name=node,
        runtime=runtime or "",
        port=port,
        tls=(cert, key, pki.ca.cert_path),
    )


def _port(value: str) -> int:
    port = int(value) if value.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value!r} (0-65535)")
    return port


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) <= 0:
        raise argparse.ArgumentTypeError(f"invalid positive integer {value!r}")
    return int(value)


def add_kubelet_parser(commands: Any) -> None:
    """Adds `kyb kubelet` and its flags to the `kyb` subcommands."""
    kubelet = commands.add_parser(
        "kubelet",
        help="run a node agent against an API server",
        description="Run the pods bound to this node (or, simulated, to N nodes).",
    )
    add = kubelet.add_argument
    add("--kubeconfig", required=True, help="how to reach the API")
    add("--node-name", default="", help="node name (default: hostname)")
    add("--node-ip", default="127.0.0.1", help="the node's InternalIP")
    add("--data-dir", default=None, help="state directory")
    add("--runtime", choices=RUNTIME_NAMES, default=None, help="container runtime")
    add("--simulate-nodes", type=_positive, default=0, help="serve N simulated nodes")
    add("--simulated-start-delay", type=float, default=0.0,
        help="seconds a simulated container takes to run")  # fmt: skip
    add("--pod-manifest-path", default=None, help="directory of static pod manifests")
    add("--port", type=_port, default=10250, help="kubelet API port")
    add("--pod-cidr", default="", help="this node's pod CIDR")
    add("--max-pods", type=_positive, default=110)
    add("--cluster-dns", default="", help="comma-separated DNS server IPs")
    add("--cluster-domain", default="cluster.local")
    add("--tls-cert-file", default=None, help="kubelet API certificate")
    add("--tls-private-key-file", default=None, help="its private key")
    add("--client-ca-file", default=None, help="CA of the API's clients")


def run_kubelet(args: argparse.Namespace) -> int:
    """`kyb kubelet` from its parsed flags; the process exit status."""
    from .server import default_data_dir  # cli.server imports this module

    files = (args.tls_cert_file, args.tls_private_key_file, args.client_ca_file)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    options = KubeletOptions(
        data_dir=data_dir,
        node_name=args.node_name,
        node_ip=args.node_ip,
        runtime=args.runtime or "",
        simulate_nodes=args.simulate_nodes,
        pod_manifest_path=Path(args.pod_manifest_path) if args.pod_manifest_path else None,
        port=args.port,
        pod_cidr=args.pod_cidr,
        max_pods=args.max_pods,
        start_delay=args.simulated_start_delay,
        cluster_dns=tuple(ip for ip in args.cluster_dns.split(",") if ip),
        cluster_domain=args.cluster_domain,
        tls=(Path(files[0]), Path(files[1]), Path(files[2])) if all(files) else None,
    )
    return run_kubelet_command(Path(args.kubeconfig), options)
