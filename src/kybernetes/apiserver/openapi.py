"""Serving the OpenAPI documents: `/openapi/v3`, `/openapi/v3/<document>`, `/openapi/v2`.

kubectl reads them to decide whether the server validates fields itself (the
`fieldValidation` parameter of a kind's PATCH operation), for `kubectl explain`, and
for the patch strategies of client-side `apply`. HTTP behaviour is kube-openapi's:

- `GET /openapi/v3` lists the documents, each as `/openapi/v3/<name>?hash=<ETAG>`,
  where ETAG is the upper-case hex SHA-512 of the document's JSON;
- `GET /openapi/v3/<name>` answers the document as JSON (406 if the Accept header
  allows no JSON), with `ETag` and `Vary: Accept`. With `?hash=` equal to
  the ETag it may be cached forever (`Cache-Control: public, immutable`, `Expires` in a
  year); any other hash is redirected (301) to the current one;
- `GET /openapi/v2` answers Swagger 2.0 as JSON or, when asked for it, as gnostic's
  protobuf (what client-go's `OpenAPISchema` reads);
- all of them honour `If-None-Match` (304) and unknown documents are 404.

Documents are built on first request and cached until the resource table's rows (or a
registered custom resource schema) change; `OpenAPIService.catalog` takes the schemas
of custom resources. Not thread-safe: use it from the event loop that serves it.
"""

from __future__ import annotations

import email.utils
import hashlib
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import orjson
from aiohttp import web

from kybernetes.api.resources import ResourceTable

from . import status
from .openapi_documents import Document, swagger, v3_document, v3_document_names
from .openapi_proto import encode_document
from .openapi_schemas import SchemaCatalog

JSON = "application/json"
V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
_V2_PROTOBUF_TYPES = (V2_PROTOBUF, "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
_V2_PROTOBUF_ANSWER = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_YEAR_SECONDS = 365 * 24 * 3600


@dataclass(slots=True)
class Served:
    """One serialized document: its JSON, ETag (unquoted) and build time."""

    body: bytes
    etag: str
    last_modified: float
    protobuf: bytes | None = field(default=None)


def _serve(document: Document, now: float) -> Served:
    body = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    return Served(body, hashlib.sha512(body).hexdigest().upper(), now)


def relative_url(name: str, etag: str) -> str:
    """Where `/openapi/v3` says document `name` is served."""
    return f"/openapi/v3/{name}?hash={etag}"


class OpenAPIService:
    """The documents of the API `table_provider()` serves, built lazily and cached.

    `clock` gives the documents' Last-Modified time (seconds since the epoch).
    """

    def __init__(
        self,
        table_provider: Callable[[], ResourceTable],
        catalog: SchemaCatalog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_provider = table_provider
        self.catalog = SchemaCatalog() if catalog is None else catalog
        self._clock = clock
        self._v3: dict[str, tuple[Hashable, Served]] = {}
        self._v2: tuple[Hashable, Served] | None = None

    def discovery(self) -> Served:
        """The `/openapi/v3` index, with the hash of every document (built if needed)."""
        table = self.table_provider()
        names = v3_document_names(table)
        for stale in self._v3.keys() - set(names):
            del self._v3[stale]
        paths = {}
        for name in names:
            served = self._document(table, name)
            assert served is not None  # every listed name has a document
            paths[name] = {"serverRelativeURL": relative_url(name, served.etag)}
        return _serve({"paths": paths}, self._clock())

    def v3(self, name: str) -> Served | None:
        """The document `/openapi/v3/<name>`, or None if there is no such document."""
        table = self.table_provider()
        if name not in v3_document_names(table):
            return None
        return self._document(table, name)

    def v2(self) -> Served:
        """The Swagger 2.0 document of the whole API."""
        table = self.table_provider()
        key = (self.catalog.generation, tuple(table))
        if self._v2 is None or self._v2[0] != key:
            self._v2 = (key, _serve(swagger(table, self.catalog), self._clock()))
        return self._v2[1]

    def v2_protobuf(self) -> bytes:
        """The Swagger 2.0 document as gnostic's `openapi.v2.Document` protobuf."""
        served = self.v2()
        if served.protobuf is None:
            served.protobuf = encode_document(orjson.loads(served.body))
        return served.protobuf

    def _document(self, table: ResourceTable, name: str) -> Served | None:
        key = (self.catalog.generation, _rows(table, name))
        cached = self._v3.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        document = v3_document(table, self.catalog, name)
        if document is None:
            return None
        served = _serve(document, self._clock())
        self._v3[name] = (key, served)
        return served


def _rows(table: ResourceTable, name: str) -> Hashable:
    """What document `name` is built from, besides the schemas."""
    parts = name.split("/")
    if parts[0] == "api" and len(parts) == 2:
        return tuple(table.resources("", parts[1]))
    if parts[0] == "apis" and len(parts) == 3:
        return tuple(table.resources(parts[1], parts[2]))
    return ()


OPENAPI_KEY = web.AppKey("openapi", OpenAPIService)


def _accepted(request: web.Request, offered: tuple[str, ...]) -> str | None:
    """The first of `offered` the request's Accept header allows (a missing header
    allows anything), or None."""
    for clause in request.headers.get("Accept", "*/*").split(","):
        media = clause.split(";", 1)[0].strip().lower()
        for candidate in offered:
            kind, _ = candidate.split("/", 1)
            if media in ("*/*", f"{kind}/*", candidate):
                return candidate
    return None


def _matches(if_none_match: list[str], etag: str) -> bool:
    tags = {t.strip().removeprefix("W/") for value in if_none_match for t in value.split(",")}
    return etag in tags or "*" in tags


def _answer(
    request: web.Request, served: Served, content_type: str, body: bytes, immutable: bool
) -> web.Response:
    headers = {
        "ETag": f'"{served.etag}"',
        "Last-Modified": email.utils.formatdate(served.last_modified, usegmt=True),
        "Vary": "Accept",
    }
    if immutable:
        expires = served.last_modified + _YEAR_SECONDS
        headers["Cache-Control"] = "public, immutable"
        headers["Expires"] = email.utils.formatdate(expires, usegmt=True)
    if _matches(request.headers.getall("If-None-Match", []), headers["ETag"]):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers=headers, content_type=content_type)


async def handle_v3_discovery(request: web.Request) -> web.Response:
    served = request.app[OPENAPI_KEY].discovery()
    return _answer(request, served, JSON, served.body, immutable=False)


async def handle_v3_document(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if _accepted(request, (JSON,)) is None:
        raise status.not_acceptable([JSON])
    served = request.app[OPENAPI_KEY].v3(name)
    if served is None:
        raise web.HTTPNotFound()
    wanted = request.query.get("hash")
    if wanted and wanted != served.etag:
        return web.Response(status=301, headers={"Location": relative_url(name, served.etag)})
    return _answer(request, served, JSON, served.body, immutable=bool(wanted))


async def handle_v2(request: web.Request) -> web.Response:
    service = request.app[OPENAPI_KEY]
    chosen = _accepted(request, (JSON, *_V2_PROTOBUF_TYPES))
    if chosen is None:
        raise status.not_acceptable([JSON, V2_PROTOBUF])
    served = service.v2()
    if chosen == JSON:
        return _answer(request, served, JSON, served.body, immutable=False)
    body = service.v2_protobuf()
    return _answer(request, served, _V2_PROTOBUF_ANSWER, body, immutable=False)


def add_openapi_routes(app: web.Application, table_provider: Callable[[], ResourceTable]) -> None:
    """Routes the OpenAPI documents of the API `table_provider()` serves; the service is
    `app[OPENAPI_KEY]` (register custom resources' schemas on its `catalog`)."""
    app[OPENAPI_KEY] = OpenAPIService(table_provider)
    app.router.add_get("/openapi/v3", handle_v3_discovery)
    app.router.add_get("/openapi/v3/{name:.+}", handle_v3_document)
    app.router.add_get("/openapi/v2", handle_v2)
