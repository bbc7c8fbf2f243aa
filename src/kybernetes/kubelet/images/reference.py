"""Image references, parsed and normalised the way docker and containerd do it.

`parse("busybox")` is `docker.io/library/busybox:latest`; `127.0.0.1:5000/x:1` keeps its
registry; `name@sha256:HEX` pins a manifest digest (a tag given with a digest is kept
but the digest decides). The grammar is distribution/reference's: the first path
component is a registry host when it contains `.` or `:` or is `localhost`; repository
path components are lower case; tags are `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.

Invariants: `str(parse(s))` is the canonical form and parsing it again is a fixed point;
`ValueError` (message `invalid reference format: ...`) for anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_DOMAIN_RE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?"
)
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")
_ID_RE = re.compile(r"(?:sha256:)?([a-f0-9]{64})")


@dataclass(frozen=True)
class Reference:
    """A normalised reference: `domain/path[:tag][@digest]`."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """`domain/path`, the repository's full name."""
        return f"{self.domain}/{self.path}"

    def with_digest(self, digest: str) -> Reference:
        """The same repository pinned to `digest` (no tag): a repo digest."""
        return Reference(self.domain, self.path, None, digest)

    def __str__(self) -> str:
        out = self.name
        if self.tag is not None:
            out += f":{self.tag}"
        if self.digest is not None:
            out += f"@{self.digest}"
        return out


def parse(ref: str) -> Reference:
    """Parses and normalises `ref`; a missing tag (and digest) means `latest`."""
    rest, digest = ref, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST_RE.fullmatch(digest):
            raise ValueError(f"invalid reference format: bad digest in {ref!r}")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise ValueError(f"invalid reference format: bad tag in {ref!r}")
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, remainder
        if not _DOMAIN_RE.fullmatch(domain):
            raise ValueError(f"invalid reference format: bad registry host in {ref!r}")
    else:
        domain, path = DEFAULT_DOMAIN, rest
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_PREFIX + path
    if not _PATH_RE.fullmatch(path):
        if path.lower() != path:
            raise ValueError(f"invalid reference format: repository name must be lowercase: {ref}")
        raise ValueError(f"invalid reference format: {ref!r}")
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)


def normalize(ref: str) -> str:
    """The canonical string of `ref` (`busybox` → `docker.io/library/busybox:latest`)."""
    return str(parse(ref))


def image_id_of(ref: str) -> str | None:
    """`sha256:HEX` when `ref` is written as an image id (`sha256:HEX` or a bare 64-hex
    string), else None. Ids take precedence over names, as in crictl."""
    match = _ID_RE.fullmatch(ref)
    return f"sha256:{match.group(1)}" if match else None


def familiar(ref: Reference) -> tuple[str, str]:
    """(repository, tag) as `crictl images` prints them: the full name and the tag
    (`<none>` when pinned by digest only)."""
    return ref.name, ref.tag if ref.tag is not None else "<none>"
