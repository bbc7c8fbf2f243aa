"""Whether a request's `Accept` header asks for a `meta.k8s.io` Table.

kube-apiserver negotiates the response like apiserver's `negotiation` package: the
header's media ranges are ordered by `q` (wildcards last among equals), and the first
range that a serializer can satisfy wins, together with its parameters: `as`/`g`/`v`
request a conversion (`as=Table;g=meta.k8s.io;v=v1` or `v1beta1`), `stream` must be
`watch` on a streaming serializer, `sv` must be `v1`. A Table is only served as JSON or
YAML; a range asking for one in another media type (or another group/version) is
skipped, so kubectl's `...;as=Table;v=v1;g=meta.k8s.io,...,application/json` falls back
to plain JSON on servers without tables.

`parse_table_accept` returns a `TableAccept` when the winning range is a Table and None
otherwise (plain objects, PartialObjectMetadata, or nothing acceptable: the caller's
own negotiation decides those). The response is encoded as the serializer's plain
media type (`Content-Type: application/json`), as kube-apiserver does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

META_GROUP = "meta.k8s.io"
TABLE_VERSIONS: Final = ("v1", "v1beta1")
SERIALIZERS: Final = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
_TABLE_MEDIA_TYPES: Final = frozenset({"application/json", "application/yaml"})
_STREAMING: Final = frozenset({"application/json", "application/vnd.kubernetes.protobuf"})
_PARTIAL_KINDS: Final = frozenset({"PartialObjectMetadata", "PartialObjectMetadataList"})


@dataclass(frozen=True, slots=True)
class TableAccept:
    """A negotiated Table response: `group_version` is the Table's (and its rows'
    PartialObjectMetadata's) apiVersion, `content_type` the response's media type."""

    group_version: str
    content_type: str


@dataclass(frozen=True, slots=True)
class _Range:
    type: str
    subtype: str
    q: float
    params: dict[str, str]


def _parse_params(text: str) -> dict[str, str] | None:
    """`key=value; key="quoted"` parameters (keys lower-cased), None if malformed."""
    params: dict[str, str] = {}
    for piece in text.split(";"):
        piece = piece.strip()
        if not piece:
            continue
        key, sep, value = piece.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key or key in params:
            return None
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].replace('\\"', '"')
        params[key] = value
    return params


def _parse_accept(header: str) -> list[_Range]:
    """goautoneg's `ParseAccept`: the ranges by preference, malformed ones dropped."""
    ranges = []
    for part in header.split(","):
        media_type, _, rest = part.partition(";")
        media_type = media_type.strip().lower()
        params = _parse_params(rest)
        if not media_type or params is None:
            continue
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            continue
        pieces = media_type.split("/")
        if len(pieces) > 2 or not all(pieces):
            continue
        subtype = pieces[1] if len(pieces) == 2 else "*"
        ranges.append(_Range(pieces[0], subtype, q, params))
    ranges.sort(key=lambda r: (-r.q, r.type == "*", r.subtype == "*"))
    return ranges


def _matches(media_range: _Range, serializer: str) -> bool:
    kind, subtype = serializer.split("/")
    if media_range.type == "*" and media_range.subtype == "*":
        return True
    return media_range.type == kind and media_range.subtype in (subtype, "*")


def _acceptable(params: dict[str, str], serializer: str) -> bool:
    """`acceptMediaTypeOptions` with a resource endpoint's restrictions."""
    stream, server_version = params.get("stream", ""), params.get("sv", "")
    if stream and (stream != "watch" or serializer not in _STREAMING):
        return False
    if server_version and server_version != "v1":
        return False
    if not {"as", "g", "v"} & params.keys():
        return True
    if params.get("g") != META_GROUP or params.get("v") not in TABLE_VERSIONS:
        return False
    kind = params.get("as", "")
    return kind in _PARTIAL_KINDS or (kind == "Table" and serializer in _TABLE_MEDIA_TYPES)


def parse_table_accept(
    accept_header: str, serializers: Sequence[str] = SERIALIZERS
) -> TableAccept | None:
    """The Table the client asked for, or None if negotiation picks anything else.

    `serializers` are the media types the server encodes, in its preference order.
    Never raises: malformed ranges are ignored, as kube-apiserver ignores them.
    """
    for media_range in _parse_accept(accept_header):
        for serializer in serializers:
            if _matches(media_range, serializer) and _acceptable(media_range.params, serializer):
                if media_range.params.get("as") != "Table":
                    return None
                return TableAccept(f"{META_GROUP}/{media_range.params['v']}", serializer)
    return None
