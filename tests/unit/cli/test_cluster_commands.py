"""`kyb cluster` and `kyb agent` on the command line: flags, errors, list and delete of
what does not exist (the full create/delete cycle is in tests/e2e/test_multinode.py)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from kybernetes.cli.cluster import registry
from kybernetes.cli.cluster.netns import existing_namespaces
from kybernetes.cli.cluster.processes import PROC
from kybernetes.cli.main import main


def test_list_without_clusters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "list", "--data-dir", str(tmp_path / "none")]) == 0
    assert capsys.readouterr().out.split() == ["NAME", "NODES", "STATE", "API", "KUBECONFIG"]


def test_list_shows_recorded_clusters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = registry.ClusterRecord("dev", 1, "process", 4242, "/k.yaml")
    registry.save(record, tmp_path)
    assert main(["cluster", "list", "--data-dir", str(tmp_path)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[1] == ["dev", "dev-server,dev-agent1", "stopped", "https://127.0.0.1:4242",
                       "/k.yaml"]  # fmt: skip


def test_bad_cluster_name_is_one_line_and_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["cluster", "load", "--name", "Bad_Name", "--data-dir", str(tmp_path), "x.tar"])
    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith("kyb cluster: error: ") and err.count("\n") == 1


def test_load_of_an_unknown_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "load", "--name", "nope", "--data-dir", str(tmp_path), "x.tar"]) == 1
    assert "no cluster named 'nope'" in capsys.readouterr().err


@pytest.mark.root
def test_delete_of_an_unknown_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = f"kt{secrets.token_hex(3)}"
    assert main(["cluster", "delete", "--name", name, "--data-dir", str(tmp_path)]) == 1
    assert f"no cluster named {name!r}" in capsys.readouterr().err


@pytest.mark.root
def test_delete_removes_namespaces_of_an_unrecorded_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = f"kt{secrets.token_hex(3)}"
    leftovers = [f"kyb-{name}-server", f"kyb-{name}-agent1", f"kyb-{name}-net"]
    try:
        for ns in leftovers:
            subprocess.run(["ip", "netns", "add", ns], check=True)
        assert main(["cluster", "delete", "--name", name, "--data-dir", str(tmp_path)]) == 0
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert name not in listed
    finally:
        for ns in leftovers:
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


def test_agent_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KYB_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(["agent", "--server", "https://127.0.0.1:6443"])
    assert exit_.value.code == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--server", "http://127.0.0.1:6443", "--token", "t"], "--server must be https"),
        (["--server", "https://127.0.0.1:6443", "--token", "K10zz::server:x"], "malformed"),
        (["--server", "https://127.0.0.1:6443", "--token", "t", "--node-ip", "x"], "x"),
    ],
)
def test_agent_flag_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agent", *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kyb agent: error: ") and message in err


@pytest.mark.root
def test_delete_removes_the_directory_of_an_unrecorded_cluster(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    name = f"kt{secrets.token_hex(3)}"
    (tmp_path / name / "agent2" / "runtime").mkdir(parents=True)
    assert main(["cluster", "delete", "--name", name, "--data-dir", str(tmp_path)]) == 0
    assert not (tmp_path / name).exists()


@pytest.mark.root
def test_a_failed_create_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() != 0 or not all(map(shutil.which, ("ip", "nsenter"))):
        pytest.skip("needs root, iproute2 and nsenter")
    name = f"kt{secrets.token_hex(3)}"
    kubeconfig = tmp_path / "kubeconfig.yaml"
    argv = [
        *("cluster", "create", "--name", name, "--agents", "1", "--runtime", "process"),
        *("--data-dir", str(tmp_path), "--kubeconfig", str(kubeconfig), "--wait", "0.5"),
    ]
    try:
        assert main(argv) == 1  # the API cannot be up within half a second
        err = capsys.readouterr().err
        assert err.startswith(f"kyb cluster: error: creating {name}: ")
        assert not [n for n in existing_namespaces() if n.startswith(f"kyb-{name}-")]
        assert not (tmp_path / name).exists()
        assert not kubeconfig.exists()
        survivors = [p for p in PROC.iterdir() if p.name.isdigit() and _mentions(p, name)]
        assert survivors == []
    finally:
        main(["cluster", "delete", "--name", name, "--data-dir", str(tmp_path)])


def _mentions(process: Path, text: str) -> bool:
    try:
        return text in (process / "cmdline").read_text()
    except OSError:
        return False
