"""The real kubectl and the official Python client against our server, through the
kubeconfig we write; and our own loader's `RestConfig` against the same server."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import aiohttp
import pytest

from kybernetes.apiserver import APIServer, IssuedCertificate
from kybernetes.apiserver.pki import PKI
from kybernetes.apiserver.version import version_info
from kybernetes.client import RestConfig, load_kubeconfig, write_kubeconfig

from .conftest import TOKEN, Start

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def admin_kubeconfig(path: Path, server: APIServer, admin: IssuedCertificate, pki: PKI) -> Path:
    config = RestConfig(
        server=server.url,
        ca_pem=pki.ca.cert_pem(),
        client_cert_pem=admin.cert_pem,
        client_key_pem=admin.key_pem,
    )
    write_kubeconfig(path, config)
    return path


async def kubectl(kubeconfig: Path, home: Path, *args: str) -> tuple[int, str, str]:
    assert KUBECTL is not None
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
    process = await asyncio.create_subprocess_exec(
        KUBECTL,
        f"--kubeconfig={kubeconfig}",
        "--request-timeout=20s",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        async with asyncio.timeout(60):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@needs_kubectl
async def test_kubectl_version_and_readyz(
    start: Start, pki: PKI, admin_cert: IssuedCertificate, tmp_path: Path
) -> None:
    async with start() as server:
        kubeconfig = admin_kubeconfig(tmp_path / "kubeconfig.yaml", server, admin_cert, pki)
        code, out, err = await kubectl(kubeconfig, tmp_path, "version", "-o", "json")
        assert code == 0, err
        assert json.loads(out)["serverVersion"] == version_info()

        code, out, err = await kubectl(kubeconfig, tmp_path, "get", "--raw", "/readyz")
        assert (code, out) == (0, "ok"), err

        code, out, err = await kubectl(kubeconfig, tmp_path, "get", "--raw", "/readyz?verbose")
        assert (code, out.splitlines()[-1]) == (0, "readyz check passed"), err


@needs_kubectl
async def test_kubectl_with_good_and_bad_tokens(start: Start, pki: PKI, tmp_path: Path) -> None:
    async with start() as server:
        with_token = tmp_path / "token.yaml"
        write_kubeconfig(with_token, RestConfig(server.url, ca_pem=pki.ca.cert_pem(), token=TOKEN))
        code, out, err = await kubectl(with_token, tmp_path, "get", "--raw", "/version")
        assert code == 0, err
        assert json.loads(out) == version_info()

        bad_token = tmp_path / "bad-token.yaml"
        write_kubeconfig(bad_token, RestConfig(server.url, ca_pem=pki.ca.cert_pem(), token="x"))
        code, _, err = await kubectl(bad_token, tmp_path, "get", "--raw", "/version")
        assert code != 0
        assert "(Unauthorized)" in err


async def test_official_python_client(
    start: Start, pki: PKI, admin_cert: IssuedCertificate, tmp_path: Path
) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    async with start() as server:
        kubeconfig = admin_kubeconfig(tmp_path / "kubeconfig.yaml", server, admin_cert, pki)

        def get_version() -> object:
            api_client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
            with api_client:
                return kubernetes.client.VersionApi(api_client).get_code()

        info = await asyncio.to_thread(get_version)
        assert info.git_version == version_info()["gitVersion"]  # type: ignore[attr-defined]


async def test_loaded_rest_config_authenticates(
    start: Start, pki: PKI, admin_cert: IssuedCertificate, tmp_path: Path
) -> None:
    async with start() as server:
        kubeconfig = admin_kubeconfig(tmp_path / "kubeconfig.yaml", server, admin_cert, pki)
        for config in (
            load_kubeconfig(kubeconfig),
            RestConfig(server.url, ca_pem=pki.ca.cert_pem(), token=TOKEN),
        ):
            connector = aiohttp.TCPConnector(ssl=config.ssl_context())
            async with (
                aiohttp.ClientSession(connector=connector, headers=config.auth_headers()) as s,
                s.get(server.url + "/api/v1/pods") as response,
            ):
                # Authenticated: past the 401, to the (not yet routed) 404.
                assert response.status == 404
