"""The `kyb` command contract: one-line errors with exit 2, `kyb server` start and stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

KYB = [sys.executable, "-m", "kybernetes.cli.main"]


def kyb(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KYB, *args], capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["server", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["server", "--https-listen-port", "99999"], "invalid port '99999'"),
        (["server", "--runtime", "docker"], "invalid choice: 'docker'"),
        (["server", "--disable", "scheduler,bogus"], "unknown component(s) bogus"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: list[str], needle: str) -> None:
    result = kyb(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kyb")
    assert "error: " in lines[0]
    assert needle in lines[0]


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_bytes(b"this is not a database, just text" * 100)
    result = kyb("server", "--data-dir", str(tmp_path), "--https-listen-port", str(free_port()))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kyb server: error: ")
    assert "state.db" in lines[0]
    assert "not a database" in lines[0]


def test_bad_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    result = kyb("server", "--data-dir", str(tmp_path), "--datastore-endpoint", "mysql://x")
    assert result.returncode == 1
    assert "unsupported datastore endpoint scheme 'mysql'" in result.stderr


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, int]]:
    port = free_port()
    proc = subprocess.Popen(
        [
            *KYB,
            *("server", "--data-dir", str(tmp_path), "--bind-address", "127.0.0.1"),
            *("--https-listen-port", str(port), "--disable-agent"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, tmp_path, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            stream.close()


def wait_for_line(proc: subprocess.Popen[str], needle: str) -> str:
    """Reads the server's stdout until a line containing `needle` (or EOF)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if needle in line:
            return line
    raise AssertionError(f"server exited ({proc.wait()}) without printing {needle!r}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_server_writes_kubeconfig_serves_and_stops_cleanly(
    server: tuple[subprocess.Popen[str], Path, int], sig: signal.Signals
) -> None:
    proc, data_dir, _port = server
    line = wait_for_line(proc, "kubeconfig")
    kubeconfig = data_dir / "kubeconfig.yaml"
    assert str(kubeconfig) in line
    assert kubeconfig.stat().st_mode & 0o777 == 0o600
    ready = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "get", "--raw", "/readyz"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert ready.returncode == 0, ready.stderr
    assert ready.stdout.strip() == "ok"
    os.kill(proc.pid, sig)
    assert proc.wait(timeout=20) == 0
    assert (data_dir / "state.db").exists()


def test_unreachable_etcd_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    result = kyb(
        "server",
        *("--data-dir", str(tmp_path), "--https-listen-port", str(free_port())),
        *("--datastore-endpoint", f"etcd://127.0.0.1:{port}"),
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kyb server: error: ")
    assert f"127.0.0.1:{port}" in lines[0]


def test_apiserver_alone_with_a_token_file(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('s3cret,alice,1001,"devs"\n')
    port = free_port()
    proc = subprocess.Popen(
        [
            *KYB,
            *("apiserver", "--data-dir", str(tmp_path), "--bind-address", "127.0.0.1"),
            *("--https-listen-port", str(port), "--token-auth-file", str(tokens)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_line(proc, "kubeconfig written")
        ca = tmp_path / "pki" / "ca.crt"
        result = subprocess.run(
            [
                *("kubectl", "--server", f"https://127.0.0.1:{port}"),
                *("--certificate-authority", str(ca), "--token", "s3cret"),
                *("get", "ns", "-o", "name"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        assert "namespace/default" in result.stdout.split()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


def test_state_survives_a_restart(tmp_path: Path) -> None:
    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [
                *KYB,
                *("server", "--data-dir", str(tmp_path), "--bind-address", "127.0.0.1"),
                *("--https-listen-port", str(free_port()), "--disable-agent"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        wait_for_line(proc, "kubeconfig written")
        return proc

    def kubectl(*args: str) -> str:
        result = subprocess.run(
            ["kubectl", "--kubeconfig", str(tmp_path / "kubeconfig.yaml"), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    for step in ("write", "read"):
        proc = start()
        try:
            if step == "write":
                kubectl("create", "configmap", "kept", "--from-literal=a=b")
            else:
                assert kubectl("get", "cm", "kept", "-o", "jsonpath={.data.a}") == "b"
            os.kill(proc.pid, signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()


def test_controller_manager_alone_against_a_server(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [
            *KYB,
            *("server", "--data-dir", str(tmp_path), "--bind-address", "127.0.0.1"),
            *("--https-listen-port", str(free_port()), "--disable-agent"),
            *("--disable", "controller-manager"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    kubeconfig = tmp_path / "kubeconfig.yaml"

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    manager: subprocess.Popen[str] | None = None
    try:
        wait_for_line(server, "kubeconfig written")
        assert kubectl("create", "namespace", "gone").returncode == 0
        assert kubectl("delete", "namespace", "gone", "--wait=false").returncode == 0
        manager = subprocess.Popen(
            [*KYB, "controller-manager", "--kubeconfig", str(kubeconfig)],
            stdout=subprocess.PIPE,
            text=True,
        )
        wait_for_line(manager, "running")
        # Only the controller manager can finish the namespace's deletion.
        done = kubectl("wait", "--for=delete", "namespace/gone", "--timeout=30s")
        assert done.returncode == 0, done.stderr
        holder = kubectl(
            "get",
            "lease",
            "kube-controller-manager",
            "-n",
            "kube-system",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        )
        assert holder.stdout.startswith(socket.gethostname())
        os.kill(manager.pid, signal.SIGTERM)
        assert manager.wait(timeout=20) == 0
    finally:
        for proc in (manager, server):
            if proc is not None:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                assert proc.stdout is not None
                proc.stdout.close()
