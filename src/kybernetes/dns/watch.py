"""Keeps a `RecordIndex` in step with the Service and EndpointSlice informers.

`attach(index, services, slices)` registers handlers that apply every add, update and
delete to the index inline (handlers run on the event loop and never block: an index
update is a recomputation of one Service's records). Objects already cached are
applied at once (informer contract), so attaching late loses nothing.
"""

from __future__ import annotations

from kybernetes.client import DeletedFinalStateUnknown, Informer

from .records import Obj, RecordIndex


def _name(obj: Obj | DeletedFinalStateUnknown) -> tuple[str, str]:
    if isinstance(obj, DeletedFinalStateUnknown):
        obj = obj.obj
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def attach(index: RecordIndex, services: Informer, slices: Informer) -> None:
    """Feeds `index` from the two informers for as long as they run."""
    services.add_handler(
        on_add=index.set_service,
        on_update=lambda _old, new: index.set_service(new),
        on_delete=lambda obj: index.delete_service(*_name(obj)),
    )
    slices.add_handler(
        on_add=index.set_slice,
        on_update=lambda _old, new: index.set_slice(new),
        on_delete=lambda obj: index.delete_slice(*_name(obj)),
    )
