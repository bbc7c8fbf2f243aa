"""`kyb cluster`'s pure parts: the layout of a cluster, node command lines, the record."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest

from kybernetes.cli.cluster import registry
from kybernetes.cli.cluster.daemon import node_argv
from kybernetes.cli.cluster.plan import IFNAMSIZ, SUPERNET, bridge_name, plan, subnet_for
from kybernetes.cli.cluster.processes import ProcessRef, ref


def test_layout_of_a_three_node_cluster(tmp_path: Path) -> None:
    p = plan("dev", 2, tmp_path)
    x = p.subnet.network_address.packed[2]
    assert p.subnet == ipaddress.IPv4Network(f"172.31.{x}.0/24")
    assert (p.bridge_netns, p.bridge, p.gateway) == ("kyb-dev-net", "kyb-dev-br", f"172.31.{x}.1")
    assert [(n.role, n.node_name, n.netns, n.ip, n.veth) for n in p.nodes] == [
        ("server", "dev-server", "kyb-dev-server", f"172.31.{x}.2", "v-server"),
        ("agent", "dev-agent1", "kyb-dev-agent1", f"172.31.{x}.3", "v-agent1"),
        ("agent", "dev-agent2", "kyb-dev-agent2", f"172.31.{x}.4", "v-agent2"),
    ]
    assert [n.data_dir for n in p.nodes] == [
        tmp_path / "dev" / s for s in ("server", "agent1", "agent2")
    ]
    assert p.api_url == f"https://172.31.{x}.2:6443"
    assert p.namespaces == ("kyb-dev-server", "kyb-dev-agent1", "kyb-dev-agent2", "kyb-dev-net")
    assert p.state_file == tmp_path / "dev" / "cluster.json"


def test_subnet_is_deterministic_and_private() -> None:
    names = [f"c{i}" for i in range(300)]
    subnets = [subnet_for(n) for n in names]
    assert subnets == [subnet_for(n) for n in names]
    assert all(s.subnet_of(SUPERNET) and s.prefixlen == 24 for s in subnets)
    assert len(set(subnets)) > 150  # spread over the /16


@pytest.mark.parametrize("name", ["a", "dev", "x" * 10, "a-b-c", "y" * 32])
def test_interface_names_fit_ifnamsiz(name: str, tmp_path: Path) -> None:
    p = plan(name, 200, tmp_path)
    assert len(p.bridge) <= IFNAMSIZ
    assert all(len(n.veth) <= IFNAMSIZ for n in p.nodes)
    assert all(ipaddress.ip_address(n.ip) in p.subnet for n in p.nodes)
    assert p.nodes[-1].ip == str(p.subnet.network_address + 202)


def test_long_names_get_a_hashed_bridge() -> None:
    assert bridge_name("abcdefgh") == "kyb-abcdefgh-br"
    long = bridge_name("abcdefghi")
    assert long.startswith("kyb-") and long.endswith("-br") and len(long) == IFNAMSIZ
    assert long != bridge_name("abcdefghj")


@pytest.mark.parametrize("name", ["", "Dev", "-a", "a-", "a_b", "a.b", "z" * 33])
def test_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid cluster name"):
        plan(name, 1)


@pytest.mark.parametrize("agents", [-1, 201])
def test_bad_agent_counts(agents: int) -> None:
    with pytest.raises(ValueError, match="--agents"):
        plan("dev", agents)


def test_node_command_lines(tmp_path: Path) -> None:
    p = plan("dev", 1, tmp_path)
    server, agent = (node_argv(p, n, "process") for n in p.nodes)
    assert server[:3] == ["nsenter", "--net=/run/netns/kyb-dev-server", "--"]
    assert server[5:7] == ["kybernetes.cli.main", "server"]
    ip = p.server.ip
    expected = {
        "--bind-address": ip,
        "--node-ip": ip,
        "--node-name": "dev-server",
        "--runtime": "process",
        "--data-dir": str(p.server.data_dir),
    }
    for flag, value in expected.items():
        assert server[server.index(flag) + 1] == value
    assert agent[:3] == ["nsenter", "--net=/run/netns/kyb-dev-agent1", "--"]
    assert agent[agent.index("agent") + 1 : agent.index("agent") + 3] == ["--server", p.api_url]
    assert agent[agent.index("--node-ip") + 1] == p.nodes[1].ip
    assert not any("K10" in a for a in agent)  # the token travels in the environment


def test_record_round_trip_and_state(tmp_path: Path) -> None:
    me = ref(os.getpid())
    assert me is not None
    record = registry.ClusterRecord(
        name="dev", agents=1, runtime="process", port=4242, kubeconfig="/k.yaml",
        created="2026-01-01T00:00:00+00:00", daemon=me,
    )  # fmt: skip
    registry.save(record, tmp_path)
    assert registry.load("dev", tmp_path) == record
    assert registry.names(tmp_path) == ["dev"]
    assert registry.load("nope", tmp_path) is None
    assert record.state(2) == "degraded"  # daemon alive, no node recorded
    registry.save_processes(tmp_path / "dev", {"server": me, "agent1": me})
    loaded = registry.load("dev", tmp_path)
    assert loaded is not None and loaded.processes == {"server": me, "agent1": me}
    assert loaded.state(2) == "running"
    gone = ProcessRef(me.pid, me.start + 1)  # same pid, another process
    assert registry.ClusterRecord("dev", 1, "", 0, "", daemon=gone).state(2) == "stopped"


def test_corrupt_record_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "cluster.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"cluster\.json"):
        registry.load("dev", tmp_path)
