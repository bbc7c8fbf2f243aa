"""Manifests and indexes: media types, schema checks, platform selection."""

from __future__ import annotations

import platform

import pytest

from kybernetes.kubelet.images import manifests
from kybernetes.kubelet.images.manifests import ManifestError, parse_manifest, select_platform

D = "sha256:" + "a" * 64


def _entry(arch: str, variant: str = "", os_: str = "linux", digest: str = D) -> dict[str, object]:
    platform = {"os": os_, "architecture": arch, **({"variant": variant} if variant else {})}
    return {"mediaType": manifests.OCI_MANIFEST, "digest": digest, "size": 1, "platform": platform}


def test_select_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    mine = "sha256:" + "b" * 64
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    index = {
        "manifests": [_entry("arm64"), _entry("amd64", os_="windows"), _entry("amd64", digest=mine)]
    }
    assert select_platform(index).digest == mine
    monkeypatch.setattr(platform, "machine", lambda: "armv7l")
    index = {
        "manifests": [
            _entry("arm", "v6"),
            _entry("arm", digest=mine),
            _entry("arm", "v7", digest=D),
        ]
    }
    assert select_platform(index).digest == D  # the exact variant wins
    assert (
        select_platform({"manifests": [_entry("arm", "v6"), _entry("arm", digest=mine)]}).digest
        == mine
    )
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert select_platform({"manifests": [_entry("arm64", "v8", digest=mine)]}).digest == mine
    with pytest.raises(
        ManifestError, match="no match for platform in manifest: linux/arm64: not found"
    ):
        select_platform({"manifests": [_entry("amd64")]})


def test_parse_manifest() -> None:
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D, "size": 5}
    document = {"schemaVersion": 2, "config": {"digest": D, "size": 3}, "layers": [layer]}
    manifest = parse_manifest(document)  # no mediaType: OCI by shape
    assert manifest.size == 8 and manifest.layers[0].size == 5
    docker = {**document, "mediaType": manifests.DOCKER_MANIFEST}
    assert parse_manifest(docker) == manifest
    assert parse_manifest(document, f"{manifests.DOCKER_MANIFEST}; charset=utf-8") == manifest
    with pytest.raises(ManifestError, match="schema 1 support has been removed"):
        parse_manifest({"schemaVersion": 1, "fsLayers": []})
    with pytest.raises(ManifestError, match="unexpected media type"):
        parse_manifest({**document, "mediaType": "application/vnd.example+json"})
    with pytest.raises(ManifestError, match="invalid descriptor"):
        parse_manifest({**document, "config": {"digest": D}})
    assert manifests.is_index({"manifests": []})
    assert manifests.is_index({}, manifests.DOCKER_LIST)
    with pytest.raises(ManifestError, match="not a JSON object"):
        manifests.load(b"[]")
