"""Defaults of the API extension kinds: CRDs (apiextensions.k8s.io/v1) and APIServices
(apiregistration.k8s.io/v1), as their 1.32 apiservers default them.

CustomResourceDefinition: `singular` is the lower-cased kind, `listKind` the kind plus
`List`, conversion strategy None, a conversion webhook service on port 443, and
`status.storedVersions` starts as the storage version. APIService: its service is on
port 443. (Defaults declared inside a CRD's schema apply to custom resources; that is
structural-schema defaulting, not this package's.)

Invariants: in place, fills only unset fields, idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    Defaulter,
    JSONObject,
    child,
    is_zero,
    items,
    path,
    set_if_absent,
    set_if_zero,
    struct,
)

SERVICE_PORT: Final = 443


def _custom_resource_definition(crd: JSONObject) -> None:
    spec = struct(crd, "spec")
    if spec is None:
        return
    if (service := path(spec, "conversion", "webhook", "clientConfig", "service")) is not None:
        set_if_absent(service, "port", SERVICE_PORT)
    if (names := struct(spec, "names")) is not None:
        kind = names.get("kind")
        if isinstance(kind, str) and kind:
            set_if_zero(names, "singular", kind.lower())
            set_if_zero(names, "listKind", kind + "List")
    set_if_absent(spec, "conversion", {"strategy": "None"})
    storage_version = next(
        (
            version["name"]
            for version in items(spec, "versions")
            if version.get("storage") is True and isinstance(version.get("name"), str)
        ),
        None,
    )
    existing_status = child(crd, "status") or {}
    if storage_version is None or not is_zero(existing_status.get("storedVersions")):
        return
    if (status := struct(crd, "status")) is not None:
        status["storedVersions"] = [storage_version]


def _api_service(api_service: JSONObject) -> None:
    if (service := path(api_service, "spec", "service")) is not None:
        set_if_absent(service, "port", SERVICE_PORT)


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): _custom_resource_definition,
    ("apiregistration.k8s.io", "v1", "APIService"): _api_service,
}
