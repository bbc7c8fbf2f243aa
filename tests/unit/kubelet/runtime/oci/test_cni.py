"""The CNI driver against recording fake plugins (no root, no network): the exec
contract (CNI_* environment, config on stdin), conflist chaining with prevResult,
capabilities → runtimeConfig, DEL in reverse order, error results and rollback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kybernetes.kubelet.runtime.interface import PortMapping
from kybernetes.kubelet.runtime.oci.cni import Cni, CniError, PodRef, default_conflist, pod_ips

PLUGIN = """#!/bin/sh
n=$(ls {calls}/*.json 2>/dev/null | wc -l)
cat > {calls}/$n-$(basename $0)-$CNI_COMMAND.json
env | grep ^CNI_ | sort > {calls}/$n-$(basename $0)-$CNI_COMMAND.env
if [ "$(basename $0)" = "{fail}" ] && [ "$CNI_COMMAND" = ADD ]; then
  echo '{{"cniVersion":"1.0.0","code":11,"msg":"no IPs left","details":"range full"}}'
  exit 1
fi
[ "$CNI_COMMAND" = ADD ] && echo '{{"cniVersion":"1.0.0","ips":[{{"address":"10.9.0.'$n'/24"}}]}}'
exit 0
"""
POD = PodRef("sb1", "default", "web", "uid-1")


def make(tmp_path: Path, fail: str = "") -> tuple[Cni, Path]:
    bins, calls, conf = tmp_path / "bin", tmp_path / "calls", tmp_path / "net.d"
    for d in (bins, calls, conf):
        d.mkdir()
    for name in ("loopback", "bridge", "portmap"):
        exe = bins / name
        exe.write_text(PLUGIN.format(calls=calls, fail=fail))
        exe.chmod(0o755)
    return Cni(conf, bins, "10.9.0.0/24", tmp_path / "ipam"), calls


def recorded(calls: Path) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    out = []
    for f in sorted(calls.glob("*.json"), key=lambda p: int(p.name.split("-")[0])):
        env = dict(line.split("=", 1) for line in f.with_suffix(".env").read_text().splitlines())
        out.append((f.stem.split("-", 1)[1], json.loads(f.read_text()), env))
    return out


async def test_add_chains_plugins_and_delete_reverses(tmp_path: Path) -> None:
    cni, calls = make(tmp_path)
    assert json.loads((tmp_path / "net.d/10-kybernetes.conflist").read_text()) == cni.conflist
    ports = [PortMapping(container_port=80, host_port=8080, protocol="TCP", host_ip="127.0.0.1")]
    result = await cni.add(POD, "/run/netns/x", ports)
    assert pod_ips(result) == ["10.9.0.2"]  # the last plugin's result
    (lo, lo_conf, lo_env), (br, br_conf, br_env), (pm, pm_conf, _) = recorded(calls)
    assert (lo, br, pm) == ("loopback-ADD", "bridge-ADD", "portmap-ADD")
    assert lo_conf["name"] == "cni-loopback" and lo_env["CNI_IFNAME"] == "lo"
    assert br_env["CNI_IFNAME"] == "eth0"
    assert br_env["CNI_NETNS"] == "/run/netns/x" and br_env["CNI_CONTAINERID"] == "sb1"
    assert br_env["CNI_PATH"] == str(tmp_path / "bin")
    assert (
        "K8S_POD_NAME=web" in br_env["CNI_ARGS"]
        and "K8S_POD_NAMESPACE=default" in br_env["CNI_ARGS"]
    )
    assert (br_conf["name"], br_conf["cniVersion"], br_conf["bridge"]) == (
        "kybernetes",
        "1.0.0",
        "kyb0",
    )
    assert br_conf["ipam"]["ranges"] == [[{"subnet": "10.9.0.0/24"}]]
    assert "prevResult" not in br_conf and "runtimeConfig" not in br_conf
    assert pm_conf["prevResult"]["ips"] == [{"address": "10.9.0.1/24"}]
    assert pm_conf["runtimeConfig"] == {
        "portMappings": [
            {"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": "127.0.0.1"}
        ]
    }
    assert "capabilities" not in pm_conf

    await cni.delete(POD, "", result, ports)
    dels = recorded(calls)[3:]
    assert [name for name, _, _ in dels] == ["portmap-DEL", "bridge-DEL"]
    assert all(
        conf["prevResult"] == result and env.get("CNI_NETNS", "") == "" for _, conf, env in dels
    )

    await cni.check(POD, "/run/netns/x", result, ports)
    assert [name for name, _, _ in recorded(calls)[5:]] == ["bridge-CHECK", "portmap-CHECK"]


async def test_failed_add_is_rolled_back(tmp_path: Path) -> None:
    cni, calls = make(tmp_path, fail="portmap")
    with pytest.raises(CniError, match="type='portmap' failed \\(ADD\\): no IPs left: range full"):
        await cni.add(POD, "/run/netns/x", [])
    names = [name for name, _, _ in recorded(calls)]
    assert names == ["loopback-ADD", "bridge-ADD", "portmap-ADD", "portmap-DEL", "bridge-DEL"]


def test_existing_conflist_is_used(tmp_path: Path) -> None:
    conf = tmp_path / "net.d"
    conf.mkdir()
    mine = default_conflist("192.168.5.0/24", tmp_path)
    mine["name"] = "mine"
    (conf / "05-mine.conflist").write_text(json.dumps(mine))
    assert Cni(conf, tmp_path, "10.0.0.0/8", tmp_path).conflist["name"] == "mine"
    assert [p.name for p in conf.iterdir()] == ["05-mine.conflist"]


def test_own_conflist_follows_pod_cidr(tmp_path: Path) -> None:
    Cni(tmp_path / "net.d", tmp_path, "10.42.0.0/24", tmp_path / "ipam")
    cni = Cni(tmp_path / "net.d", tmp_path, "10.42.7.0/24", tmp_path / "ipam")
    assert cni.conflist["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.42.7.0/24"}]]
