"""The official OpenAPI definitions of the built-in kinds (Kubernetes 1.32).

They come from the JSON schemas shipped by the `kubernetes-validate` package, which
keep the OpenAPI extensions (`x-kubernetes-group-version-kind`,
`x-kubernetes-patch-merge-key`, `x-kubernetes-patch-strategy`,
`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`...). Definitions are keyed by
their OpenAPI name (e.g. `io.k8s.api.core.v1.Pod`); `$ref`s point at
`#/$defs/<name>`. Loaded once, read-only: callers must not mutate what they get.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import orjson

KUBERNETES_VERSION = "1.32.0"

Schema = dict[str, Any]


@functools.cache
def definitions() -> dict[str, Schema]:
    """Every definition, by OpenAPI name."""
    root = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    path = root / f"v{KUBERNETES_VERSION}-local" / "_definitions.json"
    loaded: dict[str, Schema] = orjson.loads(path.read_bytes())["$defs"]
    return loaded


@functools.cache
def _by_gvk() -> dict[tuple[str, str, str], str]:
    index = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            index[(gvk["group"], gvk["version"], gvk["kind"])] = name
    return index


def definition_name(group: str, version: str, kind: str) -> str | None:
    """The OpenAPI name of a kind's definition (`""` is the core group), or None."""
    return _by_gvk().get((group, version, kind))


def resolve(schema: Schema) -> Schema:
    """Follows a `$ref` (possibly nested) to the definition it names; else returns `schema`."""
    while "$ref" in schema:
        schema = definitions()[schema["$ref"].rsplit("/", 1)[-1]]
    return schema
