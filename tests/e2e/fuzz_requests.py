"""Requests against the served API, as hypothesis strategies, and the raw HTTPS client
that sends them.

`Requests(served_resources(server), server).strategy()` draws a method, a path built
from the resources legacy discovery lists (every version), names and namespaces valid
and not, query parameters, Content-Type and Accept headers and a body shaped by the
kind's /openapi/v3 schema (see `fuzzing`).

The requests confine their writes to `FUZZ_NAMESPACE` (or to namespaces that do not
exist): cluster-scoped writes are always dry-run, and a cluster-scoped DELETE of a
collection selects only a label nothing carries. A request naming `fuzz-a` of a kind
in `SEEDS` carries that object, for the caller to create first, so that updates,
patches and deletes reach real objects.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

import urllib3
from hypothesis import strategies as st

from kybernetes.client import load_kubeconfig
from tests.e2e import fuzzing
from tests.e2e.conftest import Cluster

FUZZ_NAMESPACE = "kyb-fuzz"
_UNOWNED_LABEL = "fuzz.kybernetes.io/owned=true"
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Resource:
    """One served resource, as legacy discovery lists it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    subresources: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True)
class Request:
    """One request; `seed` is the object to create first (path, body), `misplaced` says
    that the path puts a cluster-scoped resource inside a namespace."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    watch: bool
    misplaced: bool
    seed: tuple[str, bytes] | None

    def __repr__(self) -> str:
        body = self.body if self.body is None or len(self.body) < 300 else self.body[:300]
        return f"{self.method} {self.url()} {dict(self.headers)} {body!r}"

    def url(self) -> str:
        query = urllib.parse.urlencode(self.query, quote_via=urllib.parse.quote)
        return self.path + (f"?{query}" if query else "")


class Server:
    """Raw HTTPS requests to the API server with the admin credentials."""

    def __init__(self, cluster: Cluster) -> None:
        config = load_kubeconfig(cluster.kubeconfig)
        self.base = config.server
        self.auth = config.auth_headers()
        self.pool = urllib3.PoolManager(ssl_context=config.ssl_context(), retries=False)

    def send(self, request: Request) -> urllib3.BaseHTTPResponse:
        return self.pool.request(
            request.method,
            self.base + request.url(),
            body=request.body,
            headers={**self.auth, **dict(request.headers)},
            timeout=urllib3.Timeout(connect=5, read=30),
        )

    def create(self, path: str, body: bytes) -> None:
        """Creates the object unless it exists."""
        headers = {**self.auth, "Content-Type": "application/json"}
        response = self.pool.request("POST", self.base + path, body=body, headers=headers)
        assert response.status in (201, 409), (path, response.data)

    def get_json(self, path: str) -> Any:
        response = self.pool.request("GET", self.base + path, headers=self.auth)
        assert response.status == 200, (path, response.data)
        return json.loads(response.data)


def served_resources(server: Server) -> list[Resource]:
    """Every resource of every served group version, from legacy discovery."""
    group_versions = [("", v) for v in server.get_json("/api")["versions"]]
    for group in server.get_json("/apis")["groups"]:
        group_versions += [(group["name"], v["version"]) for v in group["versions"]]
    resources = []
    for group, version in group_versions:
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        listed = server.get_json(path)["resources"]
        subresources: dict[str, list[str]] = {}
        for entry in listed:
            parent, _, sub = entry["name"].partition("/")
            if sub:
                subresources.setdefault(parent, []).append(sub)
        resources += [
            Resource(
                group,
                version,
                e["name"],
                e["kind"],
                e["namespaced"],
                tuple(subresources.get(e["name"], ())),
            )
            for e in listed
            if "/" not in e["name"]
        ]
    return resources


def served_schemas(server: Server) -> tuple[dict[str, fuzzing.Schema], dict[tuple[str, ...], str]]:
    """The schemas of every /openapi/v3 document, and the schema name of each
    (group, version, kind)."""
    schemas: dict[str, fuzzing.Schema] = {}
    for entry in server.get_json("/openapi/v3")["paths"].values():
        document = server.get_json(entry["serverRelativeURL"])
        schemas.update(document.get("components", {}).get("schemas", {}))
    by_kind = {
        (gvk["group"], gvk["version"], gvk["kind"]): name
        for name, schema in schemas.items()
        for gvk in schema.get("x-kubernetes-group-version-kind", ())
    }
    return schemas, by_kind


_CONTAINERS = [{"name": "c", "image": "busybox"}]
SEEDS: dict[tuple[str, str], dict[str, Any]] = {
    ("", "configmaps"): {
        "metadata": {"finalizers": ["fuzz.kybernetes.io/hold"]},
        "data": {"a": "b"},
    },
    ("", "secrets"): {"stringData": {"a": "b"}},
    ("", "serviceaccounts"): {},
    ("", "services"): {"spec": {"ports": [{"port": 80}], "selector": {"app": "fuzz"}}},
    ("", "pods"): {"spec": {"containers": _CONTAINERS}},
    ("apps", "deployments"): {
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "fuzz"}},
            "template": {
                "metadata": {"labels": {"app": "fuzz"}},
                "spec": {"containers": _CONTAINERS},
            },
        }
    },
    ("rbac.authorization.k8s.io", "roles"): {"rules": []},
    ("coordination.k8s.io", "leases"): {"spec": {}},
    ("policy", "poddisruptionbudgets"): {"spec": {"maxUnavailable": 1}},
    ("networking.k8s.io", "networkpolicies"): {"spec": {"podSelector": {}}},
    ("fuzz.kybernetes.io", "widgets"): {"spec": {"replicas": 1, "ports": [{"name": "a"}]}},
}
"""The objects a request naming `fuzz-a` in the fuzzer's namespace creates first."""

_SUBRESOURCE_SCHEMAS = {
    "scale": ("autoscaling", "v1", "Scale"),
    "binding": ("", "v1", "Binding"),
    "eviction": ("policy", "v1", "Eviction"),
}
_DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"


class Requests:
    """The strategy for requests against the served resources."""

    def __init__(self, resources: list[Resource], server: Server) -> None:
        self.resources = resources
        schemas, self.schema_names = served_schemas(server)
        self.shapes = fuzzing.Shapes(schemas)

    def strategy(self) -> st.SearchStrategy[Request]:
        return st.sampled_from(self.resources).flatmap(self._for)

    def _schema_name(self, resource: Resource, method: str, sub: str) -> str:
        if method == "DELETE":
            return _DELETE_OPTIONS
        gvk = _SUBRESOURCE_SCHEMAS.get(sub, (resource.group, resource.version, resource.kind))
        return self.schema_names.get(gvk, "")

    def _for(self, resource: Resource) -> st.SearchStrategy[Request]:
        return st.sampled_from(_METHODS).flatmap(lambda m: self._request(resource, m))

    def _request(self, resource: Resource, method: str) -> st.SearchStrategy[Request]:
        named = st.booleans() if method in ("GET", "POST", "DELETE") else st.just(True)
        subs = fuzzing.weighted(
            (6, st.just("")),
            (3, st.sampled_from(resource.subresources or ("",))),
            (1, st.just("nope")),
        )
        names = st.tuples(named, subs, fuzzing.PATH_NAMES)
        return names.flatmap(
            lambda t: self._complete(resource, method, t[2] if t[0] else None, t[1] if t[0] else "")
        )

    def _complete(
        self, resource: Resource, method: str, name: str | None, sub: str
    ) -> st.SearchStrategy[Request]:
        schema = self._schema_name(resource, method, sub)
        shaped = self.shapes.of(schema).flatmap(lambda obj: self._typed(resource, obj, name))
        return st.builds(
            self._build,
            st.just(resource),
            st.just(method),
            st.just(sub),
            self._namespaces(resource, method),
            st.just(name),
            fuzzing.query_parameters(),
            fuzzing.weighted((150, st.just("")), (1, st.just("param")), (1, st.just("path"))),
            fuzzing.payloads(method, shaped, self.shapes.property_paths(schema)),
            fuzzing.ACCEPTS,
        )

    def _namespaces(self, resource: Resource, method: str) -> st.SearchStrategy[str | None]:
        writable = [FUZZ_NAMESPACE] * 4 + ["fuzz-missing", "Bad-NS", "b" * 70, "ns%zz"]
        if resource.namespaced:
            return st.sampled_from([*writable, None] if method == "GET" else writable)
        # A cluster-scoped resource under /namespaces/NS/ must not be found.
        return st.sampled_from([None] * 7 + [FUZZ_NAMESPACE])

    def _typed(self, resource: Resource, obj: Any, name: str | None) -> st.SearchStrategy[Any]:
        """Mostly the right apiVersion, kind, name and namespace, so that requests get
        past the first checks."""
        if not isinstance(obj, dict):
            return st.just(obj)
        api_version = resource.api_version
        metadata = obj.get("metadata")
        if not isinstance(metadata, dict):
            metadata = {}
        names = fuzzing.BODY_NAMES if name is None else st.sampled_from([name] * 4 + [""])
        return st.fixed_dictionaries(
            {
                "apiVersion": st.sampled_from([api_version] * 6 + ["v9", ""]),
                "kind": st.sampled_from([resource.kind] * 6 + ["Nope"]),
                "name": st.one_of(names, fuzzing.BODY_NAMES) if name else names,
                "namespace": st.sampled_from([FUZZ_NAMESPACE, None, None, "other"]),
            }
        ).map(lambda typed: self._merge(obj, metadata, typed))

    @staticmethod
    def _merge(obj: dict[str, Any], metadata: dict[str, Any], typed: dict[str, Any]) -> Any:
        merged = dict(obj, apiVersion=typed["apiVersion"], kind=typed["kind"])
        merged["metadata"] = dict(metadata, name=typed["name"])
        if typed["namespace"] is not None:
            merged["metadata"]["namespace"] = typed["namespace"]
        return merged

    @staticmethod
    def _build(
        resource: Resource,
        method: str,
        sub: str,
        namespace: str | None,
        name: str | None,
        query: list[tuple[str, str]],
        watch: str,
        payload: tuple[str | None, bytes | None],
        accept: str | None,
    ) -> Request:
        content_type, body = payload
        segments = [resource.prefix]
        if watch == "path":
            segments.append("watch")
        if namespace is not None:
            segments += ["namespaces", namespace]
        segments.append(resource.plural)
        if name is not None:
            segments.append(name)
        if sub:
            segments.append(sub)
        path = "/".join(urllib.parse.quote(s, safe="") for s in segments[1:])
        if watch == "param":
            query = [*query, ("watch", "true")]
        if (content_type or "").startswith("application/apply-patch"):
            query = [("fieldManager", "fuzz"), *query]
        if watch:
            query = [(k, v) for k, v in query if k != "timeoutSeconds"] + [("timeoutSeconds", "1")]
        if not resource.namespaced and method != "GET":
            # Cluster-scoped writes never change the shared cluster.
            query = [(k, v) for k, v in query if k not in ("dryRun", "labelSelector")]
            query += [("dryRun", "All"), ("labelSelector", _UNOWNED_LABEL)]
        headers = [("Content-Type", content_type)] if content_type is not None else []
        if accept is not None:
            headers.append(("Accept", accept))
        return Request(
            method,
            f"{segments[0]}/{path}",
            tuple(query),
            tuple(headers),
            body if method != "GET" else None,
            watch == "path" or (watch == "param" and method == "GET" and name is None),
            not resource.namespaced and namespace is not None,
            _seed(resource, namespace, name),
        )


def _seed(resource: Resource, namespace: str | None, name: str | None) -> tuple[str, bytes] | None:
    """The seed object a request carries: (collection path, JSON body), or None."""
    template = SEEDS.get((resource.group, resource.plural))
    if template is None or namespace != FUZZ_NAMESPACE or name != "fuzz-a":
        return None
    obj = {**template, "apiVersion": resource.api_version, "kind": resource.kind}
    obj["metadata"] = {**template.get("metadata", {}), "name": name}
    return f"{resource.prefix}/namespaces/{namespace}/{resource.plural}", json.dumps(obj).encode()
