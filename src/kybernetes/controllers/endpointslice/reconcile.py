"""How a Service's EndpointSlices change to hold the desired endpoints with few writes
(Kubernetes' EndpointSlice `reconciler`, simplified but with its principles).

Input: the controller's existing slices for one Service, the desired endpoints
grouped by port set, and `max_per_slice`. Output: a `Plan` of slices to create,
update and delete, where, per port set:
1. each existing slice keeps the desired endpoints it already holds (updated in
   place when their content changed) and drops the others; an endpoint is identified
   by its addresses and target;
2. new endpoints first fill slices that are being updated anyway (an emptied slice
   is reused rather than deleted), then go to new
   slices of at most `max_per_slice`; a last, partly filled new slice is merged into
   an unchanged slice with room, if any (an update instead of a create);
3. slices left empty, of a port set no longer wanted, or of another address type are
   deleted;
4. a slice to delete is rewritten instead, when one of its address type would be
   created (an update rather than a delete and a create).
With no desired endpoint at all the Service keeps exactly one empty *placeholder*
slice (no ports, no endpoints), as the EndpointSlice controller does (`placeholder`;
the mirroring controller keeps none).

Pure: existing slices are not mutated; the plan holds new endpoint lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
PortKey = tuple[tuple[str, int, str, str], ...]


def port_key(ports: list[Obj]) -> PortKey:
    """The identity of a port set (order-insensitive)."""
    return tuple(
        sorted(
            (
                str(p.get("name") or ""),
                int(p.get("port") or 0),
                str(p.get("protocol") or "TCP"),
                str(p.get("appProtocol") or ""),
            )
            for p in ports
        )
    )


def endpoint_key(endpoint: Obj) -> tuple[Any, ...]:
    ref = endpoint.get("targetRef") or {}
    return (*sorted(endpoint.get("addresses") or []), ref.get("name"), ref.get("uid"))


@dataclass
class Plan:
    """Slices to write: `create` holds (ports, endpoints) pairs; `update` (existing
    slice, ports, endpoints) triples; `delete` existing slices."""

    create: list[tuple[list[Obj], list[Obj]]] = field(default_factory=list)
    update: list[tuple[Obj, list[Obj], list[Obj]]] = field(default_factory=list)
    delete: list[Obj] = field(default_factory=list)
    keep: list[Obj] = field(default_factory=list)


def plan(
    existing: list[Obj],
    desired: dict[PortKey, tuple[list[Obj], list[Obj]]],
    address_type: str,
    max_per_slice: int,
    *,
    placeholder: bool = True,
) -> Plan:
    """The writes that bring `existing` to `desired` ({port key: (ports, endpoints)})
    (module docstring). `keep` lists the existing slices left untouched."""
    result = Plan()
    if not any(endpoints for _, endpoints in desired.values()):
        if not placeholder:
            return Plan(delete=list(existing))
        return _reuse(_placeholder(existing), address_type)
    by_key: dict[PortKey, list[Obj]] = {}
    for slice_ in sorted(existing, key=lambda s: s["metadata"].get("name") or ""):
        key = port_key(slice_.get("ports") or [])
        wanted = desired.get(key)
        if slice_.get("addressType") != address_type or wanted is None or not wanted[1]:
            result.delete.append(slice_)
        else:
            by_key.setdefault(key, []).append(slice_)
    for key, (ports, endpoints) in desired.items():
        if endpoints:
            _plan_port_set(by_key.get(key, []), ports, endpoints, max_per_slice, result)
    return _reuse(result, address_type)


def _reuse(result: Plan, address_type: str) -> Plan:
    """Turns (create, delete) pairs of one address type into updates."""
    reusable = [s for s in result.delete if s.get("addressType") == address_type]
    while result.create and reusable:
        slice_ = reusable.pop(0)
        result.delete.remove(slice_)
        ports, endpoints = result.create.pop(0)
        result.update.append((slice_, ports, endpoints))
    return result


def _plan_port_set(
    slices: list[Obj], ports: list[Obj], endpoints: list[Obj], max_per_slice: int, result: Plan
) -> None:
    wanted = {endpoint_key(e): e for e in endpoints}
    placed: set[tuple[Any, ...]] = set()
    contents: list[tuple[Obj, list[Obj]]] = []
    for slice_ in slices:
        kept: list[Obj] = []
        for endpoint in slice_.get("endpoints") or []:
            key = endpoint_key(endpoint)
            if key in wanted and key not in placed and len(kept) < max_per_slice:
                kept.append(wanted[key])
                placed.add(key)
        contents.append((slice_, kept))
    remaining = [e for k, e in wanted.items() if k not in placed]
    changed = [(s, kept) for s, kept in contents if kept != (s.get("endpoints") or [])]
    unchanged = [(s, kept) for s, kept in contents if kept == (s.get("endpoints") or [])]
    for _, kept in changed:
        while remaining and len(kept) < max_per_slice:
            kept.append(remaining.pop(0))
    chunks = [remaining[i : i + max_per_slice] for i in range(0, len(remaining), max_per_slice)]
    if chunks and len(chunks[-1]) < max_per_slice:
        roomy = [(s, kept) for s, kept in unchanged if len(kept) + len(chunks[-1]) <= max_per_slice]
        if roomy:
            slice_, kept = max(roomy, key=lambda sk: len(sk[1]))
            kept.extend(chunks.pop())
            unchanged.remove((slice_, kept))
            changed.append((slice_, kept))
    for slice_, kept in changed:
        if kept:
            result.update.append((slice_, ports, kept))
        else:
            result.delete.append(slice_)
    result.keep.extend(s for s, _ in unchanged)
    result.create.extend((ports, chunk) for chunk in chunks)


def _placeholder(existing: list[Obj]) -> Plan:
    result = Plan()
    placeholder = next((s for s in existing if not s.get("endpoints") and not s.get("ports")), None)
    if placeholder is None:
        result.create.append(([], []))
    else:
        result.keep.append(placeholder)
    result.delete.extend(s for s in existing if s is not placeholder)
    return result
