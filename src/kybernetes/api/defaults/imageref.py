"""The default `imagePullPolicy` of a container image reference.

Kubernetes parses the image with distribution's `ParseNormalizedNamed` (docker.io and
`library/` implied for short names) and takes the tag, `latest` when the reference has
neither tag nor digest: `Always` for the tag `latest`, else `IfNotPresent`. A reference
that does not parse (upper-case repository, empty, bad digest) has no tag, so it gets
`IfNotPresent`, exactly as in Kubernetes, where validation then rejects it.

Invariants: pure; the grammar is distribution/reference's, with `\\w` meaning ASCII
word characters as in Go's RE2.
"""

from __future__ import annotations

import re
from typing import Final

PULL_ALWAYS: Final = "Always"
PULL_IF_NOT_PRESENT: Final = "IfNotPresent"

_DEFAULT_DOMAIN: Final = "docker.io"
_NAME_MAX_LENGTH: Final = 255
# Digest algorithms Kubernetes links in, with their hex lengths.
_DIGEST_HEX_LENGTHS: Final = {"sha256": 64, "sha384": 96, "sha512": 128}

_ALPHANUMERIC = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:(?:[._]|__|-+){_ALPHANUMERIC})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"((?:{_HOST}(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(\w[\w.-]{{0,127}}))?(?:@({_DIGEST}))?",
    re.ASCII,
)
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
_HEX = re.compile(r"[a-f0-9]+")


def default_pull_policy(image: object) -> str:
    """The `imagePullPolicy` Kubernetes gives a container whose image is `image`."""
    return PULL_ALWAYS if _tag(image) == "latest" else PULL_IF_NOT_PRESENT


def _tag(image: object) -> str:
    """The tag Kubernetes' `ParseImageName` reports: "" when the reference is invalid."""
    if not isinstance(image, str) or _IDENTIFIER.fullmatch(image):
        return ""
    domain, remainder = _split_domain(image)
    if remainder.split(":", 1)[0] != remainder.split(":", 1)[0].lower():
        return ""  # "repository name must be lowercase"
    match = _REFERENCE.fullmatch(f"{domain}/{remainder}")
    if match is None or len(match[1]) > _NAME_MAX_LENGTH:
        return ""
    tag, digest = match[2] or "", match[3] or ""
    if digest and not _valid_digest(digest):
        return ""
    return tag or ("" if digest else "latest")


def _split_domain(name: str) -> tuple[str, str]:
    """distribution's `splitDockerDomain`: (registry, repository path and the rest)."""
    first, slash, rest = name.partition("/")
    if not slash or (
        not any(c in first for c in ".:") and first != "localhost" and first == first.lower()
    ):
        domain, remainder = _DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == "index.docker.io":
        domain = _DEFAULT_DOMAIN
    if domain == _DEFAULT_DOMAIN and "/" not in remainder:
        remainder = "library/" + remainder
    return domain, remainder


def _valid_digest(digest: str) -> bool:
    algorithm, _, encoded = digest.partition(":")
    length = _DIGEST_HEX_LENGTHS.get(algorithm)
    return length == len(encoded) and _HEX.fullmatch(encoded) is not None
