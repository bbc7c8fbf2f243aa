"""Defaults of networking.k8s.io/v1 and discovery.k8s.io/v1 (1.32).

NetworkPolicy: ports' protocol TCP; `policyTypes` Ingress, plus Egress when egress
rules are given. IngressClass: a parameters reference is cluster-scoped by default.
EndpointSlice: ports' name `""` and protocol TCP. Ingress has no defaults in v1.

Invariants: in place, fills only unset fields, idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    Defaulter,
    JSONObject,
    is_zero,
    items,
    path,
    set_if_absent,
    struct,
)


def _network_policy(policy: JSONObject) -> None:
    spec = struct(policy, "spec")
    if spec is None:
        return
    for direction in ("ingress", "egress"):
        for rule in items(spec, direction):
            for port in items(rule, "ports"):
                set_if_absent(port, "protocol", "TCP")
    if is_zero(spec.get("policyTypes")):
        has_egress = not is_zero(spec.get("egress"))
        spec["policyTypes"] = ["Ingress", "Egress"] if has_egress else ["Ingress"]


def _ingress_class(ingress_class: JSONObject) -> None:
    if (parameters := path(ingress_class, "spec", "parameters")) is not None:
        set_if_absent(parameters, "scope", "Cluster")


def _endpoint_slice(slice_: JSONObject) -> None:
    for port in items(slice_, "ports"):
        set_if_absent(port, "name", "")
        set_if_absent(port, "protocol", "TCP")


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    ("networking.k8s.io", "v1", "NetworkPolicy"): _network_policy,
    ("networking.k8s.io", "v1", "IngressClass"): _ingress_class,
    ("discovery.k8s.io", "v1", "EndpointSlice"): _endpoint_slice,
}
