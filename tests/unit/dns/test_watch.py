"""The informer handlers keep the index in step, deletions seen late included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kybernetes.client import DeletedFinalStateUnknown
from kybernetes.dns.records import RecordIndex
from kybernetes.dns.watch import attach

from .conftest import endpoint, endpoint_slice, service


class StubInformer:
    """Holds the handlers `attach` registers, for the test to call."""

    def add_handler(
        self,
        on_add: Callable[[Any], None],
        on_update: Callable[[Any, Any], None],
        on_delete: Callable[[Any], None],
    ) -> None:
        self.on_add, self.on_update, self.on_delete = on_add, on_update, on_delete


def test_events_reach_the_index() -> None:
    index = RecordIndex()
    services, slices = StubInformer(), StubInformer()
    attach(index, services, slices)  # type: ignore[arg-type]
    name = "db.default.svc.cluster.local."
    headless = service("db", cluster_ips=("None",))
    services.on_add(headless)
    eps = endpoint_slice("db-1", "db", [endpoint("10.42.0.5")])
    slices.on_add(eps)
    assert index.lookup(name) == {"A": ["10.42.0.5"]}
    moved = endpoint_slice("db-1", "db", [endpoint("10.42.0.6")])
    slices.on_update(eps, moved)
    assert index.lookup(name) == {"A": ["10.42.0.6"]}
    slices.on_delete(DeletedFinalStateUnknown("default/db-1", moved))
    assert index.lookup(name) is None
    slices.on_add(moved)
    services.on_update(headless, service("db"))  # no longer headless
    assert index.lookup(name) == {"A": ["10.43.0.20"]}
    services.on_delete(service("db"))
    assert index.lookup(name) is None
    assert not index.exists("svc.cluster.local.")
