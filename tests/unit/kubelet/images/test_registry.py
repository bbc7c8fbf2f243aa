"""Pulling from registries: Debian's docker-registry on loopback, a token-auth front
for it, and small fake registries that misbehave."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kybernetes.kubelet.images.registry import PullError, endpoint, pull
from kybernetes.kubelet.images.store import ImageStore
from kybernetes.kubelet.runtime.interface import AuthConfig
from tests.support.images import LayerBuilder, build_image, digest, goarch
from tests.support.registry import (
    BusyboxArchives,
    LocalRegistry,
    TokenAuthRegistry,
    free_port,
)


def test_endpoints() -> None:
    assert endpoint("127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert endpoint("localhost") == "http://localhost"
    assert endpoint("[::1]:5000") == "http://[::1]:5000"
    assert endpoint("docker.io") == "https://registry-1.docker.io"
    assert endpoint("registry.k8s.io") == "https://registry.k8s.io"


async def test_pull_by_tag_then_by_digest(
    tmp_path: Path, local_registry: LocalRegistry, busybox_archives: BusyboxArchives
) -> None:
    store = ImageStore(tmp_path / "a")
    ref = f"{local_registry.host}/busybox:1.36"
    record = await pull(store, ref)
    assert record.id == busybox_archives.image.id
    assert record.repo_tags == (ref,)
    (repo_digest,) = record.repo_digests
    assert repo_digest.startswith(f"{local_registry.host}/busybox@sha256:")
    (rootfs,) = store.layer_paths(record.id)
    assert os.readlink(rootfs / "bin" / "sh") == "busybox"

    other = ImageStore(tmp_path / "b")
    by_digest = await pull(other, repo_digest)
    assert by_digest.id == record.id
    assert by_digest.repo_tags == () and by_digest.repo_digests == (repo_digest,)
    assert other.resolve(repo_digest) == record.id


async def test_manifest_list_resolves_to_this_platform(
    tmp_path: Path, local_registry: LocalRegistry, busybox_archives: BusyboxArchives
) -> None:
    store = ImageStore(tmp_path / "images")
    record = await pull(store, f"{local_registry.host}/busybox-multi:1.36")
    assert store.image_config(record.id)["architecture"] == goarch()
    index_digest = digest(busybox_archives.index)
    assert record.repo_digests == (f"{local_registry.host}/busybox-multi@{index_digest}",)


async def test_zstd_layers(
    tmp_path: Path, local_registry: LocalRegistry, busybox_archives: BusyboxArchives
) -> None:
    local_registry.push(busybox_archives.oci_zstd_archive, "busybox-zstd:1.36", "oci-archive")
    store = ImageStore(tmp_path / "images")
    record = await pull(store, f"{local_registry.host}/busybox-zstd:1.36")
    manifest = json.loads(store.blob(record.manifest))
    assert manifest["layers"][0]["mediaType"].endswith("tar+zstd")
    assert record.id == busybox_archives.image.id  # same diffIDs, same config


@pytest.mark.parametrize("name", ["nope:1", "busybox:no-such-tag"])
async def test_missing_image_is_not_found(
    tmp_path: Path, local_registry: LocalRegistry, name: str
) -> None:
    ref = f"{local_registry.host}/{name}"
    with pytest.raises(PullError) as caught:
        await pull(ImageStore(tmp_path / "images"), ref)
    assert str(caught.value) == (
        f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
        f"{ref}: not found"
    )


async def test_registry_down_is_connection_refused(tmp_path: Path) -> None:
    port = free_port()
    ref = f"127.0.0.1:{port}/busybox:1.36"
    with pytest.raises(PullError) as caught:
        await pull(ImageStore(tmp_path / "images"), ref)
    assert str(caught.value) == (
        f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
        f'failed to do request: Get "http://127.0.0.1:{port}/v2/busybox/manifests/1.36": '
        f"dial tcp 127.0.0.1:{port}: connect: connection refused"
    )


async def test_bearer_token_anonymous(tmp_path: Path, local_registry: LocalRegistry) -> None:
    front = TokenAuthRegistry(f"http://{local_registry.host}")
    async with front.serving():
        record = await pull(ImageStore(tmp_path / "images"), f"{front.host}/busybox:1.36")
    assert record.repo_tags == (f"{front.host}/busybox:1.36",)
    assert front.token_requests[0] == {
        "scope": "repository:busybox:pull",
        "service": TokenAuthRegistry.SERVICE,
    }


async def test_bearer_token_with_credentials(tmp_path: Path, local_registry: LocalRegistry) -> None:
    front = TokenAuthRegistry(f"http://{local_registry.host}", "alice", "s3cret")
    ref = f"{front.host}/busybox:1.36"
    async with front.serving():
        with pytest.raises(PullError) as anonymous:
            await pull(ImageStore(tmp_path / "a"), ref)
        with pytest.raises(PullError) as wrong:
            await pull(ImageStore(tmp_path / "b"), ref, AuthConfig("alice", "nope"))
        record = await pull(ImageStore(tmp_path / "c"), ref, AuthConfig("alice", "s3cret"))
    assert record.repo_tags == (ref,)
    token_url = f"http://{front.host}/token?scope=repository:busybox:pull&service={front.SERVICE}"
    prefix = f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
    assert str(anonymous.value) == (
        prefix + "failed to authorize: failed to fetch anonymous token: unexpected status "
        f"from GET request to {token_url}: 401 Unauthorized"
    )
    assert "failed to fetch oauth token" in str(wrong.value)


async def test_registry_token_is_sent_as_bearer(
    tmp_path: Path, local_registry: LocalRegistry
) -> None:
    front = TokenAuthRegistry(f"http://{local_registry.host}", "alice", "s3cret")
    ref = f"{front.host}/busybox:1.36"
    async with front.serving():
        front.tokens.add("preissued")
        await pull(ImageStore(tmp_path / "a"), ref, AuthConfig(registry_token="preissued"))
        with pytest.raises(PullError, match="failed to fetch anonymous token"):
            await pull(ImageStore(tmp_path / "b"), ref, AuthConfig(registry_token="stale"))
    assert front.token_requests == [{"scope": "repository:busybox:pull", "service": front.SERVICE}]


@asynccontextmanager
async def fake_registry(
    routes: dict[str, tuple[bytes, str]], middlewares: Sequence[Any] = ()
) -> AsyncIterator[str]:
    """Serves fixed bodies (path → (body, content type)) on 127.0.0.1; yields HOST:PORT.
    Everything else is a registry-style 404."""

    async def handle(request: web.Request) -> web.Response:
        if request.path in routes:
            body, content_type = routes[request.path]
            return web.Response(body=body, headers={"Content-Type": content_type})
        error = {"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry"}]}
        return web.json_response(error, status=404)

    app = web.Application(middlewares=list(middlewares))
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _routes(layer_body: bytes | None = None) -> tuple[dict[str, tuple[bytes, str]], str]:
    image = build_image("x/y:1", [LayerBuilder().file("f", b"data").build()])
    layer = image.layers[0]
    manifest_type = "application/vnd.oci.image.manifest.v1+json"
    routes = {
        "/v2/bad/manifests/1": (image.manifest, manifest_type),
        f"/v2/bad/blobs/{image.id}": (image.config, "application/octet-stream"),
        f"/v2/bad/blobs/{digest(layer)}": (
            layer if layer_body is None else layer_body,
            "application/octet-stream",
        ),
    }
    return routes, digest(layer)


async def test_tampered_blob_is_rejected(tmp_path: Path) -> None:
    routes, layer_digest = _routes(layer_body=b"not the layer")
    store = ImageStore(tmp_path / "images")
    async with fake_registry(routes) as host:
        with pytest.raises(PullError) as caught:
            await pull(store, f"{host}/bad:1")
    assert f"expected {layer_digest}: failed precondition" in str(caught.value)
    assert store.list() == [] and list((store.root / "layers").iterdir()) == []
    assert list((store.root / "tmp").iterdir()) == []


async def test_manifest_not_matching_its_digest_is_rejected(tmp_path: Path) -> None:
    routes, _ = _routes()
    wanted = "sha256:" + "4" * 64
    routes[f"/v2/bad/manifests/{wanted}"] = routes["/v2/bad/manifests/1"]
    async with fake_registry(routes) as host:
        with pytest.raises(PullError, match=f"expected {wanted}"):
            await pull(ImageStore(tmp_path / "images"), f"{host}/bad@{wanted}")


async def test_missing_blob_is_named(tmp_path: Path) -> None:
    routes, layer_digest = _routes()
    del routes[f"/v2/bad/blobs/{layer_digest}"]
    async with fake_registry(routes) as host:
        with pytest.raises(PullError) as caught:
            await pull(ImageStore(tmp_path / "images"), f"{host}/bad:1")
    assert (
        f"could not fetch content descriptor {layer_digest} "
        "(application/vnd.oci.image.layer.v1.tar+gzip) from remote: not found"
    ) in str(caught.value)
    assert str(caught.value).startswith(f'failed to pull and unpack image "{host}/bad:1": ')


async def test_basic_auth_challenge(tmp_path: Path) -> None:
    routes, _ = _routes()
    expected = "Basic " + base64.b64encode(b"bob:pw").decode()

    @web.middleware
    async def basic_only(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.headers.get("Authorization") != expected:
            error = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
            headers = {"WWW-Authenticate": 'Basic realm="kyb"'}
            return web.json_response(error, status=401, headers=headers)
        response: web.StreamResponse = await handler(request)
        return response

    async with fake_registry(routes, [basic_only]) as host:
        with pytest.raises(PullError) as anonymous:
            await pull(ImageStore(tmp_path / "a"), f"{host}/bad:1")
        record = await pull(ImageStore(tmp_path / "b"), f"{host}/bad:1", AuthConfig("bob", "pw"))
    assert record.repo_tags == (f"{host}/bad:1",)
    assert str(anonymous.value).endswith(
        "pull access denied, repository does not exist or may require authorization: "
        "server message: unauthorized: authentication required"
    )


async def test_real_registry_with_basic_auth(
    tmp_path: Path, busybox_archives: BusyboxArchives
) -> None:
    with LocalRegistry(htpasswd=("bob", "pw")) as registry:
        registry.push(busybox_archives.oci_archive, "private/busybox:1.36", "oci-archive")
        ref = f"{registry.host}/private/busybox:1.36"
        with pytest.raises(PullError) as anonymous:
            await pull(ImageStore(tmp_path / "a"), ref)
        with pytest.raises(PullError) as wrong:
            await pull(ImageStore(tmp_path / "b"), ref, AuthConfig("bob", "nope"))
        record = await pull(ImageStore(tmp_path / "c"), ref, AuthConfig("bob", "pw"))
    assert record.id == busybox_archives.image.id
    denied = (
        f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}": '
        "pull access denied, repository does not exist or may require authorization: "
        "server message: unauthorized: authentication required"
    )
    assert str(anonymous.value) == denied
    assert str(wrong.value) == denied
