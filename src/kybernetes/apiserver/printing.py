"""Answering in the representation the client asked for: plain objects or Tables.

`TableRequest.of(request, registry)` reads the `Accept` header (and `includeObject`);
when the client asked for a `meta.k8s.io` Table (as `kubectl get` does) the handlers
answer gets, lists and watch events with Tables built by `tables`, with the kind's
columns or, for custom resources, the CRD's printer columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from . import status
from .registry import Registry
from .stored import StoredObject
from .tables import (
    TableAccept,
    check_include_object,
    parse_table_accept,
    table_for,
    watch_event_table,
)


@dataclass(frozen=True, slots=True)
class TableRequest:
    """A client's request for Tables, with what each row should carry."""

    accept: TableAccept
    include_object: str
    registry: Registry

    @classmethod
    def of(cls, request: web.Request, registry: Registry) -> TableRequest | None:
        """The Table request in `request`, or None for plain objects; 400 for a bad
        `includeObject`."""
        accept = parse_table_accept(request.headers.get("Accept", ""))
        if accept is None:
            return None
        include = request.query.get("includeObject", "")
        try:
            check_include_object(include)
        except ValueError as e:
            raise status.bad_request(str(e)) from None
        return cls(accept, include or "Metadata", registry)

    def table(self, objects: Sequence[StoredObject], list_meta: dict[str, Any]) -> bytes:
        return orjson.dumps(
            table_for(
                self.registry.info,
                [o.obj for o in objects],
                list_meta=list_meta,
                include_object=self.include_object,
                printer_columns=self.registry.printer_columns,
                table_version=self.accept.group_version,
            )
        )

    def event_object(self, obj: StoredObject, first: bool) -> bytes:
        return orjson.dumps(
            watch_event_table(
                self.registry.info,
                obj.obj,
                first=first,
                include_object=self.include_object,
                printer_columns=self.registry.printer_columns,
                table_version=self.accept.group_version,
            )
        )

    def response(self, body: bytes) -> web.Response:
        return web.Response(body=body, content_type=self.accept.content_type)
