"""Conversion between a served version and the version objects are stored in.

Kubernetes stores some kinds once and serves them in several shapes: an
`events.k8s.io/v1` Event is a core `v1` Event in storage, with renamed fields
(`regarding` ↔ `involvedObject`, `note` ↔ `message`, `reportingController` ↔
`reportingComponent`, `deprecatedSource` ↔ `source`, `deprecatedFirstTimestamp` ↔
`firstTimestamp`, `deprecatedLastTimestamp` ↔ `lastTimestamp`, `deprecatedCount` ↔
`count`). `converter_for(served, stored)` gives the pair of functions, or None when the
two are the same.

Invariants: pure functions returning new dicts (the input is not changed);
`from_storage(to_storage(x)) == x` for every field the served version has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Object = dict[str, Any]

# events.k8s.io/v1 field name -> core/v1 field name.
_EVENT_RENAMES = {
    "regarding": "involvedObject",
    "note": "message",
    "reportingController": "reportingComponent",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
}


@dataclass(frozen=True, slots=True)
class Converter:
    """Turns a served object into its stored form and back."""

    to_storage: Callable[[Object], Object]
    from_storage: Callable[[Object], Object]


def _renamer(renames: dict[str, str], api_version: str) -> Callable[[Object], Object]:
    def convert(obj: Object) -> Object:
        converted = {renames.get(k, k): v for k, v in obj.items()}
        converted["apiVersion"] = api_version
        return converted

    return convert


_CONVERTERS = {
    (("events.k8s.io", "v1", "Event"), ("", "v1", "Event")): Converter(
        to_storage=_renamer(_EVENT_RENAMES, "v1"),
        from_storage=_renamer({v: k for k, v in _EVENT_RENAMES.items()}, "events.k8s.io/v1"),
    )
}


def converter_for(served: tuple[str, str, str], stored: tuple[str, str, str]) -> Converter | None:
    """The conversion between (group, version, kind) `served` and `stored`; None when
    they are the same (or when the kinds only differ in version and share a shape)."""
    if served == stored:
        return None
    return _CONVERTERS.get((served, stored))
