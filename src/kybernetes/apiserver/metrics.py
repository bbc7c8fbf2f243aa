"""Prometheus metrics of the API server, served at /metrics.

The names and labels follow kube-apiserver's, so existing dashboards read them:
`apiserver_request_total` and `apiserver_request_duration_seconds` by verb, group,
version, resource, subresource, scope and code; `apiserver_longrunning_requests` for
open watches; `etcd_request_duration_seconds` for store calls by operation and type
(whatever the backend). Each application has its own registry, so several servers in
one process (tests) do not mix their numbers.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from kybernetes.store import Event, KeyValue, ListResult, Store, UpdateFunc

from .requestinfo import REQUEST_INFO_KEY

_VERBS = {
    "get": "GET",
    "list": "LIST",
    "watch": "WATCH",
    "create": "POST",
    "update": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
    "deletecollection": "DELETE",
}
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 5, 10, 30, 60)


class APIMetrics:
    """The metric families of one API server."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ["verb", "group", "version", "resource", "subresource", "scope"]
        self.requests = Counter(
            "apiserver_request",
            "Counter of apiserver requests broken out by verb, resource and code.",
            [*labels, "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds by verb and resource.",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.longrunning = Gauge(
            "apiserver_longrunning_requests",
            "Gauge of all active long-running apiserver requests (watches).",
            ["verb", "group", "version", "resource"],
            registry=self.registry,
        )
        self.store_latency = Histogram(
            "etcd_request_duration_seconds",
            "Store request latency in seconds by operation and object type.",
            ["operation", "type"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )

    def middleware(self) -> Middleware:
        """Counts and times every resource request (the outermost middleware)."""

        @web.middleware
        async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
            start = time.perf_counter()
            code = 500
            try:
                response = await handler(request)
                code = response.status
                return response
            finally:
                info = request.get(REQUEST_INFO_KEY)
                if info is not None and info.is_resource_request:
                    verb = _VERBS.get(info.verb, info.verb.upper())
                    if request.content_type == "application/apply-patch+yaml":
                        verb = "APPLY"
                    if info.name and info.verb not in ("list", "watch"):
                        scope = "resource"
                    else:
                        scope = "namespace" if info.namespace else "cluster"
                    labels = (
                        verb,
                        info.api_group,
                        info.api_version,
                        info.resource,
                        info.subresource,
                        scope,
                    )
                    self.requests.labels(*labels, str(code)).inc()
                    if verb != "WATCH":
                        self.latency.labels(*labels).observe(time.perf_counter() - start)

        return measure

    def watching(
        self, group: str, version: str, resource: str
    ) -> AbstractAsyncContextManager[None]:
        """Counts an open watch while the context is entered."""
        return self._watching(group, version, resource)

    @asynccontextmanager
    async def _watching(self, group: str, version: str, resource: str) -> AsyncIterator[None]:
        gauge = self.longrunning.labels("WATCH", group, version, resource)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()

    async def handler(self, request: web.Request) -> web.Response:
        """`GET /metrics`: the text exposition format."""
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )


def _type_of(key: str) -> str:
    """The resource part of a store key (`/registry/pods/ns/x` → `pods`)."""
    parts = key.split("/")
    return parts[2] if len(parts) > 2 else key


class MeasuredStore:
    """A `Store` that times every call into `etcd_request_duration_seconds`."""

    def __init__(self, store: Store, metrics: APIMetrics) -> None:
        self._store = store
        self._histogram = metrics.store_latency

    def _observe(self, operation: str, key: str, start: float) -> None:
        self._histogram.labels(operation, _type_of(key)).observe(time.perf_counter() - start)

    async def current_revision(self) -> int:
        return await self._store.current_revision()

    async def compacted_revision(self) -> int:
        return await self._store.compacted_revision()

    async def get(self, key: str) -> KeyValue | None:
        start = time.perf_counter()
        try:
            return await self._store.get(key)
        finally:
            self._observe("get", key, start)

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str | None = None
    ) -> ListResult:
        start = time.perf_counter()
        try:
            return await self._store.list(
                prefix, revision=revision, limit=limit, start_after=start_after
            )
        finally:
            self._observe("list", prefix, start)

    async def count(self, prefix: str) -> int:
        return await self._store.count(prefix)

    async def create(self, key: str, value: bytes, *, ttl: int | None = None) -> KeyValue:
        start = time.perf_counter()
        try:
            return await self._store.create(key, value, ttl=ttl)
        finally:
            self._observe("create", key, start)

    async def update(
        self, key: str, value: bytes, *, expected_mod_revision: int, ttl: int | None = None
    ) -> KeyValue:
        start = time.perf_counter()
        try:
            return await self._store.update(
                key, value, expected_mod_revision=expected_mod_revision, ttl=ttl
            )
        finally:
            self._observe("update", key, start)

    async def guaranteed_update(
        self, key: str, update: UpdateFunc, *, ttl: int | None = None
    ) -> KeyValue | None:
        start = time.perf_counter()
        try:
            return await self._store.guaranteed_update(key, update, ttl=ttl)
        finally:
            self._observe("update", key, start)

    async def delete(self, key: str, *, expected_mod_revision: int | None = None) -> KeyValue:
        start = time.perf_counter()
        try:
            return await self._store.delete(key, expected_mod_revision=expected_mod_revision)
        finally:
            self._observe("delete", key, start)

    def watch(
        self, prefix: str, *, revision: int = 0
    ) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        return self._store.watch(prefix, revision=revision)

    async def compact(self, revision: int) -> None:
        await self._store.compact(revision)

    async def close(self) -> None:
        await self._store.close()
