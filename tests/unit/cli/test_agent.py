"""`kyb agent`'s join: CA verified against the token, credentials written, the node's
identity accepted by the API server; bad tokens and a foreign CA are refused."""

from __future__ import annotations

import asyncio
import socket
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import aiohttp
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from yarl import URL

from kybernetes.apiserver import APIServer, APIServerConfig, create_app, ensure_pki
from kybernetes.apiserver.join import JoinToken, ca_hash
from kybernetes.apiserver.pki import PKI
from kybernetes.cli.agent import AgentOptions, JoinRejected, join, outbound_address, serve_agent
from kybernetes.client import load_kubeconfig
from kybernetes.store import Store

SECRET = "agent-test-secret"


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    return ensure_pki(tmp_path / "pki", hosts=["test-host"])


@asynccontextmanager
async def serving(pki: PKI, port: int = 0) -> AsyncIterator[APIServer]:
    config = APIServerConfig(
        pki_dir=pki.directory, bind_address="127.0.0.1", port=port, join_secret=SECRET
    )
    async with APIServer(create_app(cast(Store, object()), config), config) as server:
        yield server


def options(url: str, token: str, tmp_path: Path) -> AgentOptions:
    return AgentOptions(server=url, token=token, data_dir=tmp_path / "node")


async def test_join_writes_credentials_the_server_accepts(pki: PKI, tmp_path: Path) -> None:
    token = str(JoinToken(SECRET, ca_hash(pki.ca.cert_pem())))
    async with serving(pki) as server:
        creds = await join(options(server.url, token, tmp_path), "worker-1", "127.0.0.1")
        rest = load_kubeconfig(creds.kubeconfig)
        connector = aiohttp.TCPConnector(ssl=rest.ssl_context())
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(server.url + "/metrics") as response,  # not public
        ):
            assert response.status == 200  # the x509 identity system:node:worker-1
        assert rest.server == server.url
    assert rest.ca_pem == pki.ca.cert_pem()
    assert rest.client_cert_pem is not None
    cert = x509.load_pem_x509_certificate(rest.client_cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "system:node:worker-1"
    )
    directory = tmp_path / "node" / "agent"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(creds.serving_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(creds.kubeconfig.stat().st_mode) == 0o600
    assert creds.ca_cert.read_bytes() == pki.ca.cert_pem()
    serving_cert = x509.load_pem_x509_certificate(creds.serving_cert.read_bytes())
    sans = serving_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


async def test_a_foreign_ca_is_refused(pki: PKI, tmp_path: Path) -> None:
    other = ensure_pki(tmp_path / "other-pki", hosts=[])
    token = str(JoinToken(SECRET, ca_hash(other.ca.cert_pem())))
    async with serving(pki) as server:
        with pytest.raises(JoinRejected, match="does not match"):
            await join(options(server.url, token, tmp_path), "worker-1", "127.0.0.1")
    assert not (tmp_path / "node" / "agent").exists()


async def test_a_wrong_secret_is_refused(pki: PKI, tmp_path: Path) -> None:
    token = str(JoinToken("not-the-secret", ca_hash(pki.ca.cert_pem())))
    async with serving(pki) as server:
        with pytest.raises(JoinRejected, match="401"):
            await join(options(server.url, token, tmp_path), "worker-1", "127.0.0.1")


async def test_join_waits_for_the_server(pki: PKI, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = str(JoinToken(SECRET, ca_hash(pki.ca.cert_pem())))
    url = f"https://127.0.0.1:{port}"
    joining = asyncio.create_task(join(options(url, token, tmp_path), "late", "127.0.0.1"))
    done, _ = await asyncio.wait({joining}, timeout=0.3)
    assert not done  # refused connections are retried
    async with serving(pki, port):
        creds = await asyncio.wait_for(joining, 20)
    assert creds.kubeconfig.is_file()


def test_outbound_address_is_the_route_to_the_server() -> None:
    assert outbound_address(URL("https://127.0.0.1:6443")) == "127.0.0.1"


async def test_a_stop_before_joining_ends_the_agent(pki: PKI, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = str(JoinToken(SECRET, ca_hash(pki.ca.cert_pem())))
    stop = asyncio.Event()
    agent = AgentOptions(f"https://127.0.0.1:{port}", token, tmp_path / "node", node_name="n1")
    running = asyncio.create_task(serve_agent(agent, stop))
    done, _ = await asyncio.wait({running}, timeout=0.3)
    assert not done  # still retrying the join
    stop.set()
    await asyncio.wait_for(running, 5)
    assert not (tmp_path / "node" / "agent").exists()
