"""Fixtures: a KubeletServer over a HostRuntime with TLS from the test PKI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kybernetes.apiserver.pki import PKI
from kybernetes.kubelet.server import KubeletServer, serving_ssl_context

from .support import HostRuntime


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[HostRuntime]:
    host = HostRuntime(tmp_path / "logs")
    host.add_pod("default", "web", ["app"])
    try:
        yield host
    finally:
        await host.cleanup()


@pytest.fixture
def kubelet_tls(pki: PKI, tmp_path: Path) -> tuple[str, str, str]:
    issued = pki.certificate_authority().issue_serving("node", ["127.0.0.1"])
    cert, key = tmp_path / "kubelet.crt", tmp_path / "kubelet.key"
    cert.write_bytes(issued.cert_pem)
    key.write_bytes(issued.key_pem)
    return str(cert), str(key), str(pki.ca.cert_path)


@pytest.fixture
async def kubelet(
    runtime: HostRuntime, kubelet_tls: tuple[str, str, str], tmp_path: Path
) -> AsyncIterator[KubeletServer]:
    context = serving_ssl_context(*kubelet_tls)
    async with KubeletServer("127.0.0.1", 0, context, runtime, str(tmp_path / "logs")) as server:
        yield server
