"""The iptables applier: the restore input's structure, and real traffic through the
KUBE-* chains inside the test's network namespaces."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from kybernetes.proxy.iptables import JUMPS, IptablesApplier, parse_save, render
from kybernetes.proxy.rules import NodeConfig, compute

from .conftest import NODE_IP, POD_IPS, Net, endpoint, endpointslice, service

NODE = NodeConfig("n1", cluster_cidr="10.42.0.0/16")
NODE_PORT = [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]


def test_render_structure() -> None:
    rules = compute(
        [
            service(
                "web", "10.43.0.10", type="NodePort", ports=NODE_PORT, sessionAffinity="ClientIP"
            ),
            service("empty", "10.43.0.11"),
        ],
        [endpointslice("web", [endpoint("10.42.0.2"), endpoint("10.42.0.3")])],
        NODE,
    )
    script = render(
        rules, stale={("nat", "KUBE-SVC-OLDOLDOLDOLDOLDO")}, missing_jumps=range(len(JUMPS))
    )
    nat, filt = script.split("*filter\n")
    assert nat.startswith("*nat\n:KUBE-SERVICES - [0:0]\n")
    svc = re.search(
        r"-A KUBE-SERVICES .*-d 10.43.0.10/32 -p tcp .*--dport 80 -j (KUBE-SVC-[A-Z2-7]{16})", nat
    )
    assert svc
    chain = svc.group(1)
    rules_of = [line for line in nat.splitlines() if line.startswith(f"-A {chain} ")]
    assert (
        rules_of[0] == f"-A {chain} ! -s 10.42.0.0/16 -d 10.43.0.10/32 -p tcp -m tcp --dport 80"
        " -j KUBE-MARK-MASQ"
    )
    assert "--rcheck --seconds 10800 --reap" in rules_of[1]
    assert "-m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-" in rules_of[3]
    assert re.fullmatch(rf"-A {chain} -j KUBE-SEP-[A-Z2-7]{{16}}", rules_of[4])
    assert re.search(
        r"-A KUBE-SEP-\w+ -p tcp -m tcp -m recent --name KUBE-SEP-\w+ .*--set "
        r"-j DNAT --to-destination 10.42.0.2:8080",
        nat,
    )
    assert re.search(r"-A KUBE-SEP-\w+ -s 10.42.0.2/32 -j KUBE-MARK-MASQ", nat)
    assert re.search(r"-A KUBE-NODEPORTS .*--dport 30080 -j KUBE-EXT-", nat)
    last = [line for line in nat.splitlines() if line.startswith("-A KUBE-SERVICES ")][-1]
    assert last.endswith("-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS")
    assert '-I PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES' in nat
    assert ":KUBE-SVC-OLDOLDOLDOLDOLDO - [0:0]" in nat and "-X KUBE-SVC-OLDOLDOLDOLDOLDO" in nat
    assert re.search(
        r"-A KUBE-SERVICES .*-d 10.43.0.11/32 .* -j REJECT --reject-with icmp-port-unreachable",
        filt,
    )
    assert "-I INPUT -m conntrack --ctstate NEW" in filt


def test_parse_save_finds_our_chains_and_jumps() -> None:
    text = "\n".join(
        [
            "*nat",
            ":PREROUTING ACCEPT [0:0]",
            ":KUBE-SERVICES - [0:0]",
            ":KUBE-SVC-ABC - [0:0]",
            ":DOCKER - [0:0]",
            '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
            "COMMIT",
            "*filter",
            ":KUBE-SERVICES - [0:0]",
            "COMMIT",
        ]
    )
    chains, jumps = parse_save(text)
    assert chains == {
        ("nat", "KUBE-SERVICES"),
        ("nat", "KUBE-SVC-ABC"),
        ("filter", "KUBE-SERVICES"),
    }
    assert jumps == {0}


@pytest.mark.root
async def test_traffic_through_iptables(net: Net) -> None:
    applier = IptablesApplier(net.runner)
    services = [
        service("web", "10.43.0.10", type="NodePort", ports=NODE_PORT),
        service("empty", "10.43.0.11"),
        service("one", "10.43.0.12"),
        service("sticky", "10.43.0.13", sessionAffinity="ClientIP"),
    ]
    slices = [
        endpointslice("web", [endpoint(POD_IPS[0]), endpoint(POD_IPS[1])]),
        endpointslice("one", [endpoint(POD_IPS[0])]),
        endpointslice("sticky", [endpoint(POD_IPS[0]), endpoint(POD_IPS[1])]),
    ]
    await applier.sync(compute(services, slices, NODE))
    assert set(net.connect_many("10.43.0.10", 80, 40)) == {f"ok {POD_IPS[0]}", f"ok {POD_IPS[1]}"}
    assert net.connect(NODE_IP, 30080).startswith("ok 10.42.0.")
    assert net.connect("10.43.0.11", 80, timeout=2) == "refused"
    assert len(set(net.connect_many("10.43.0.13", 80, 20))) == 1  # ClientIP affinity
    # NodePort from another host (the pod's second address): DNAT in prerouting, and
    # masqueraded, or the endpoint would answer that client directly.
    from_outside = net.connect_many(NODE_IP, 30080, 10, source=POD_IPS[1])
    assert set(from_outside) <= {f"ok {POD_IPS[0]}", f"ok {POD_IPS[1]}"}
    assert net.connect("10.43.0.12", 80, source=POD_IPS[0]) == f"ok {POD_IPS[0]}"  # hairpin

    slices[0] = endpointslice("web", [endpoint(POD_IPS[1])])
    await applier.sync(compute(services[:1], slices, NODE))
    assert set(net.connect_many("10.43.0.10", 80, 10)) == {f"ok {POD_IPS[1]}"}
    saved = net.run(net.node, "iptables-save")
    assert "10.43.0.12" not in saved and saved.count(":KUBE-SEP-") == 1  # stale chains gone
    assert saved.count("-j KUBE-SERVICES") == 4  # jumps inserted once
    await applier.sync(compute(services[:1], slices, NODE), full=True)
    assert net.run(net.node, "iptables-save").count("-j KUBE-SERVICES") == 4

    # Someone else's rule survives our syncs and our cleanup.
    net.run(
        net.node, "iptables", "-t", "nat", "-A", "POSTROUTING", "-d", "203.0.113.1", "-j", "ACCEPT"
    )
    await applier.cleanup()
    saved = net.run(net.node, "iptables-save")
    assert "KUBE-" not in saved and "203.0.113.1" in saved


async def test_partial_sync_writes_only_the_changed_service_chains() -> None:
    scripts: list[str] = []

    async def runner(argv: Sequence[str], stdin: bytes) -> str:
        if argv[0] == "iptables-save":
            return "*nat\n:KUBE-SVC-GONEGONEGONEGONE - [0:0]\nCOMMIT\n"
        scripts.append(stdin.decode())
        return ""

    applier = IptablesApplier(runner)
    services = [service(f"s{i}", f"10.43.1.{i + 1}") for i in range(20)]
    slices = [endpointslice(f"s{i}", [endpoint(f"10.42.1.{i + 1}")]) for i in range(20)]
    await applier.sync(compute(services, slices, NODE))
    assert scripts[0].count(":KUBE-SEP-") == 20 and "-X KUBE-SVC-GONEGONEGONEGONE" in scripts[0]
    assert scripts[0].count("-I ") == len(JUMPS)
    slices[3] = endpointslice("s3", [endpoint("10.42.2.4")])
    await applier.sync(compute(services, slices, NODE))
    partial = scripts[-1]
    assert "-I " not in partial and "GONE" not in partial
    declared = re.findall(r"^:(KUBE-(?:SVC|SEP)-\w+)", partial, re.M)
    assert len(declared) == 3  # s3's service chain, its new endpoint, its old one (deleted)
    assert re.search(r"^-X KUBE-SEP-\w+$", partial, re.M)
    assert partial.count("-j DNAT") == 1 and "10.42.2.4:8080" in partial
    assert partial.count("-A KUBE-SERVICES ") == 21  # every entry, + the nodeports rule
    await applier.sync(compute(services, slices, NODE))
    assert len(scripts) == 2  # nothing changed, nothing written
