"""The default pull policy: Always for `latest` (explicit or implied), else IfNotPresent,
including for references distribution cannot parse."""

from __future__ import annotations

import pytest

from kybernetes.api.defaults.imageref import default_pull_policy

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("library/nginx", "Always"),
        ("docker.io/library/nginx:latest", "Always"),
        ("localhost:5000/app", "Always"),  # a registry port is not a tag
        ("registry.example.com:443/team/app", "Always"),
        ("[::1]:5000/app", "Always"),
        ("Registry.Example.com/app", "Always"),  # an upper-case first part is a registry
        (f"nginx:latest@{DIGEST}", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("nginx:Latest", "IfNotPresent"),
        (f"nginx@{DIGEST}", "IfNotPresent"),
        ("ghcr.io/org/app:v1.2.3", "IfNotPresent"),
        # Not parseable: no tag, so IfNotPresent (validation rejects them later).
        ("", "IfNotPresent"),
        ("Nginx", "IfNotPresent"),
        ("nginx:", "IfNotPresent"),
        ("a" * 64, "IfNotPresent"),
        ("nginx:latest@sha256:abc", "IfNotPresent"),
        ("nginx:latest@md5:" + "a" * 32, "IfNotPresent"),
        ("nginx:latest@sha256:" + "A" * 64, "IfNotPresent"),
        ("registry.example.com/" + "a" * 255, "IfNotPresent"),
        ("-nginx", "IfNotPresent"),
        (None, "IfNotPresent"),
    ],
)
def test_default_pull_policy(image: object, policy: str) -> None:
    assert default_pull_policy(image) == policy
