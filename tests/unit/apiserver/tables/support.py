"""Shared test helpers: a fixed clock, timestamps relative to it, and one printer row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kybernetes.api.resources import CRUD_VERBS, ResourceInfo
from kybernetes.apiserver.tables import PRINTERS
from kybernetes.apiserver.tables.cells import PrintContext

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


def ago(**delta: float) -> str:
    """An RFC 3339 timestamp `delta` before NOW."""
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cells(group: str, kind: str, obj: dict[str, Any], *, wide: bool = False) -> list[Any]:
    """The cells kube-apiserver's printer for group/kind computes for `obj`."""
    return PRINTERS[(group, kind)].row(obj, PrintContext(NOW, wide))


def info(group: str, version: str, kind: str, plural: str) -> ResourceInfo:
    return ResourceInfo(group, version, kind, plural, kind.lower(), True, CRUD_VERBS)
