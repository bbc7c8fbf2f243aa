"""Image references are normalised like docker's and containerd's."""

from __future__ import annotations

import pytest

from kybernetes.kubelet.images.reference import familiar, image_id_of, normalize, parse

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("busybox", "docker.io/library/busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest"),
        ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1"),
        ("user/app", "docker.io/user/app:latest"),
        ("127.0.0.1:5000/x:1", "127.0.0.1:5000/x:1"),
        ("localhost/a/b", "localhost/a/b:latest"),
        ("localhost:5000/a", "localhost:5000/a:latest"),
        ("kyb.test/busybox:1.36", "kyb.test/busybox:1.36"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
        (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}"),
        (f"busybox:1.36@{DIGEST}", f"docker.io/library/busybox:1.36@{DIGEST}"),
        ("[::1]:5000/x:y", "[::1]:5000/x:y"),
        ("a__b/c-d.e_f:T.a-g", "docker.io/a__b/c-d.e_f:T.a-g"),
    ],
)
def test_normalize(ref: str, expected: str) -> None:
    assert normalize(ref) == expected
    assert normalize(expected) == expected  # a fixed point


@pytest.mark.parametrize(
    "ref",
    ["", "Busybox", "busybox:", "busybox:-x", "busybox@sha256:abc", "a//b", "x:" + "t" * 129, "-a"],
)
def test_invalid(ref: str) -> None:
    with pytest.raises(ValueError, match="invalid reference format"):
        parse(ref)


def test_uppercase_repository_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="repository name must be lowercase"):
        parse("kyb.test/BusyBox")


def test_parts() -> None:
    ref = parse("127.0.0.1:5000/team/app:2")
    assert (ref.domain, ref.path, ref.tag, ref.digest) == ("127.0.0.1:5000", "team/app", "2", None)
    assert ref.name == "127.0.0.1:5000/team/app"
    assert str(ref.with_digest(DIGEST)) == f"127.0.0.1:5000/team/app@{DIGEST}"
    assert familiar(ref) == ("127.0.0.1:5000/team/app", "2")
    assert familiar(ref.with_digest(DIGEST)) == ("127.0.0.1:5000/team/app", "<none>")


def test_image_ids() -> None:
    assert image_id_of(DIGEST) == DIGEST
    assert image_id_of("ab" * 32) == DIGEST
    assert image_id_of("busybox") is None
    assert image_id_of("sha256:abc") is None
