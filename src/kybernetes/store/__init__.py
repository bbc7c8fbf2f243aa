"""The cluster store: the source of truth for every object, with history to watch.

`open_store(endpoint)` picks the backend from a `--datastore-endpoint` value:
`sqlite:///PATH` (embedded, the default) or `etcd://HOST:PORT[,HOST:PORT...]`.
"""

from __future__ import annotations

from .endpoint import open_store, parse_endpoint
from .interface import (
    Compacted,
    Conflict,
    Event,
    EventType,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    ListResult,
    Store,
    StoreError,
    Unavailable,
    UpdateFunc,
)

__all__ = [
    "Compacted",
    "Conflict",
    "Event",
    "EventType",
    "FutureRevision",
    "KeyExists",
    "KeyNotFound",
    "KeyValue",
    "ListResult",
    "Store",
    "StoreError",
    "Unavailable",
    "UpdateFunc",
    "open_store",
    "parse_endpoint",
]
