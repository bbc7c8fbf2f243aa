"""`APIClient`: the async REST client every component uses to talk to the API server.

One `aiohttp` session per client, with the `RestConfig`'s TLS context, client
certificate or bearer token, and a pool of keep-alive connections shared by all
requests (watches hold one connection each while they run). Every request sends
`Accept: application/json` and `User-Agent: kyb-<component>/<version>`; bodies are
JSON (server-side apply sends JSON too, which is valid YAML).

Errors: an HTTP error answer raises `APIError` (subclass `Expired` for 410) carrying
the server's Status; no answer at all raises `TransportError`. Nothing is retried here:
callers (informers, work-queue workers) own retry policy.

Idempotency: `get`, `list`, `update` with a resourceVersion (a compare-and-swap) and
`delete` with preconditions are safe to retry; `create` of a fixed name answers
AlreadyExists when retried; `patch` of type merge/strategic/json is not idempotent in
general; apply is.

Concurrency: one client is shared by any number of tasks of its event loop. Use it as
an async context manager (`async with APIClient(config) as client`), which opens and
closes the session.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Literal, Self

import aiohttp
import orjson

from kybernetes import __version__

from .errors import APIError, TransportError
from .kubeconfig import RestConfig
from .resource import PODS, Resource
from .watch import WatchStream

Obj = dict[str, Any]
Body = dict[str, Any] | list[Any]  # a JSON patch is a list of operations
PatchType = Literal["merge", "strategic", "json", "apply"]
PropagationPolicy = Literal["", "Orphan", "Background", "Foreground"]

PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}
_JSON = "application/json"


class APIClient:
    """An authenticated, pooled connection to one API server (see module docstring).

    `timeout` bounds each non-watch request, connecting included; `max_connections`
    bounds the pool (watches count while open).
    """

    def __init__(
        self,
        config: RestConfig,
        *,
        component: str = "client",
        timeout: float = 30.0,
        max_connections: int = 256,
    ) -> None:
        self.config = config
        self.user_agent = f"kyb-{component}/{__version__}"
        self._base = config.server.rstrip("/")
        self._timeout = timeout
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("APIClient is already open")
        ssl = self.config.ssl_context() if self._base.startswith("https:") else False
        connector = aiohttp.TCPConnector(ssl=ssl, limit=self._max_connections)
        headers = {"Accept": _JSON, "User-Agent": self.user_agent, **self.config.auth_headers()}
        self._session = aiohttp.ClientSession(connector=connector, headers=headers)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the session and every pooled connection. Idempotent."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- verbs -----------------------------------------------------------------------

    async def get(
        self, resource: Resource, name: str, namespace: str = "", *, subresource: str = ""
    ) -> Obj:
        """The object (or its subresource, e.g. `scale`). NotFound if absent."""
        return await self._call("GET", resource.path(namespace, name, subresource))

    async def list(
        self,
        resource: Resource,
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_: str = "",
        resource_version: str = "",
    ) -> Obj:
        """One List (a page when `limit` is set: `metadata.continue` names the next;
        an expired continue token raises `Expired`). All namespaces without one."""
        params = {
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "limit": str(limit) if limit else "",
            "continue": continue_,
            "resourceVersion": resource_version,
        }
        return await self._call("GET", resource.path(namespace), params=params)

    async def create(
        self,
        resource: Resource,
        obj: Obj,
        *,
        namespace: str = "",
        field_manager: str = "",
        dry_run: bool = False,
    ) -> Obj:
        """Creates `obj` (in `namespace`, default its metadata's). AlreadyExists if
        the name is taken; Invalid if validation fails."""
        path = resource.path(self._namespace_of(resource, obj, namespace))
        params = {"fieldManager": field_manager, "dryRun": "All" if dry_run else ""}
        return await self._call("POST", path, params=params, body=obj)

    async def update(
        self,
        resource: Resource,
        obj: Obj,
        *,
        namespace: str = "",
        subresource: str = "",
        field_manager: str = "",
    ) -> Obj:
        """Replaces the object (PUT). With `metadata.resourceVersion` set this is a
        compare-and-swap: Conflict if the object changed since."""
        name = str((obj.get("metadata") or {}).get("name") or "")
        if not name:
            raise ValueError("update needs metadata.name")
        path = resource.path(self._namespace_of(resource, obj, namespace), name, subresource)
        return await self._call("PUT", path, params={"fieldManager": field_manager}, body=obj)

    async def update_status(self, resource: Resource, obj: Obj, *, namespace: str = "") -> Obj:
        """Replaces the `status` subresource: only `.status` changes (plus metadata
        the status strategy allows). Conflict on a stale resourceVersion."""
        return await self.update(resource, obj, namespace=namespace, subresource="status")

    async def patch(
        self,
        resource: Resource,
        name: str,
        patch: Body,
        *,
        namespace: str = "",
        patch_type: PatchType = "merge",
        field_manager: str = "",
        force: bool = False,
        subresource: str = "",
    ) -> Obj:
        """Patches the object. `apply` is server-side apply: it needs `field_manager`,
        and `force` takes over conflicting fields (else Conflict lists them)."""
        params = {"fieldManager": field_manager, "force": "true" if force else ""}
        return await self._call(
            "PATCH",
            resource.path(namespace, name, subresource),
            params=params,
            body=patch,
            content_type=PATCH_CONTENT_TYPES[patch_type],
        )

    async def delete(
        self,
        resource: Resource,
        name: str,
        namespace: str = "",
        *,
        propagation_policy: PropagationPolicy = "",
        grace_period_seconds: int | None = None,
        preconditions: Obj | None = None,
    ) -> Obj:
        """Deletes the object; answers the object (still present while finalizers or
        a grace period hold it) or a Status. NotFound if absent; Conflict if a
        precondition (`{"uid": ..., "resourceVersion": ...}`) fails."""
        options: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            options["preconditions"] = preconditions
        return await self._call("DELETE", resource.path(namespace, name), body=options)

    async def bind(self, pod: Obj, node: str) -> None:
        """Assigns a pending pod to `node` (pods/binding). Conflict if it is already
        assigned or being deleted; NotFound if it is gone."""
        meta = pod["metadata"]
        binding_meta = {"name": meta["name"], "namespace": meta["namespace"]}
        if meta.get("uid"):
            binding_meta["uid"] = meta["uid"]
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": binding_meta,
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        path = PODS.path(meta["namespace"], meta["name"], "binding")
        await self._call("POST", path, body=binding)

    def watch(
        self,
        resource: Resource,
        namespace: str = "",
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        allow_bookmarks: bool = False,
        timeout_seconds: int | None = None,
    ) -> WatchStream:
        """A watch from `resource_version` ("" or "0": synthetic ADDED events for what
        exists first). The request starts when the stream is entered or iterated;
        see `WatchStream` for how it ends and fails."""
        params = {
            "watch": "true",
            "resourceVersion": resource_version,
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "allowWatchBookmarks": "true" if allow_bookmarks else "",
            "timeoutSeconds": str(timeout_seconds) if timeout_seconds is not None else "",
        }
        path = resource.path(namespace)
        total = None if timeout_seconds is None else timeout_seconds + self._timeout
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=self._timeout)

        async def open_response() -> aiohttp.ClientResponse:
            response = await self._send("GET", path, params, None, _JSON, timeout)
            if response.status >= 400:
                try:
                    raw = await response.read()
                finally:
                    response.release()
                raise _error(response.status, raw)
            return response

        return WatchStream(open_response)

    # --- plumbing --------------------------------------------------------------------

    @staticmethod
    def _namespace_of(resource: Resource, obj: Obj, namespace: str) -> str:
        if not resource.namespaced:
            return ""
        namespace = namespace or str((obj.get("metadata") or {}).get("namespace") or "")
        if not namespace:
            raise ValueError(f"{resource} is namespaced: give a namespace")
        return namespace

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Body | None = None,
        content_type: str = _JSON,
    ) -> Obj:
        data = None if body is None else orjson.dumps(body)
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        response = await self._send(method, path, params, data, content_type, timeout)
        try:
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            raise TransportError(f"{method} {path}: {e}") from e
        finally:
            response.release()
        if response.status >= 400:
            raise _error(response.status, raw)
        try:
            result = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise TransportError(f"{method} {path}: the answer is not JSON") from e
        if not isinstance(result, dict):
            raise TransportError(f"{method} {path}: the answer is not a JSON object")
        return result

    async def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        data: bytes | None,
        content_type: str,
        limits: aiohttp.ClientTimeout,
    ) -> aiohttp.ClientResponse:
        if self._session is None:
            raise RuntimeError("APIClient is not open: use it as an async context manager")
        query = {k: v for k, v in (params or {}).items() if v}
        headers = {"Content-Type": content_type} if data is not None else None
        try:
            return await self._session.request(
                method, self._base + path, params=query, data=data, headers=headers,
                timeout=limits,
            )  # fmt: skip
        except (aiohttp.ClientError, TimeoutError) as e:
            raise TransportError(f"{method} {path}: {e or type(e).__name__}") from e


def _error(code: int, raw: bytes) -> APIError:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    return APIError.from_response(code, body, raw.decode(errors="replace")[:1000])
