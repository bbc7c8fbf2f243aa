"""The resource table: which kinds the API serves, under which names, with which verbs.

A `ResourceInfo` is one row of `kubectl api-resources -o wide` plus what the store and
the router need: the subresources (with the kind and verbs discovery reports for each)
and where objects are persisted. `ResourceTable` indexes rows by (group, version,
plural) and (group, version, kind) and orders groups and versions the way
kube-apiserver's discovery does. The built-in rows live in `builtin_resources`; the API
server adds and removes the rows of CustomResourceDefinitions at run time.

Invariants:
- Rows are immutable; replacing a row (a CRD update) swaps the whole `ResourceInfo`.
- Within one group/version a plural names one kind and a kind has one plural.
- Groups are ordered as kube-aggregator orders APIServices: by descending group
  priority, ties broken by the APIService name `<version>.<group>`; versions inside a
  group by descending version priority, then Kubernetes-aware version order (`v1` before
  `v1beta2` before `v1beta1` before `v1alpha1` before anything else). The first
  version of a group is its preferred version. The core group (`""`) is always first.
- `ResourceTable` is not thread-safe: mutate it from the event loop that reads it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Priorities kube-aggregator gives APIServices registered for CustomResourceDefinitions.
CRD_GROUP_PRIORITY = 1000
CRD_VERSION_PRIORITY = 100

CRUD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_SUB_VERBS = ("get", "patch", "update")

_KUBE_VERSION = re.compile(r"^v([0-9]+)(?:(alpha|beta)([0-9]+))?$")
_STABILITY_RANK = {None: 0, "beta": 1, "alpha": 2}


def storage_version_hash(group: str, version: str, kind: str) -> str:
    """Discovery's `storageVersionHash`: base64 of the first 8 bytes of sha256("g/v/k")."""
    digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def version_sort_key(version: str) -> tuple[int, int, int, str]:
    """Sort key putting versions in Kubernetes' preference order (most preferred first)."""
    m = _KUBE_VERSION.match(version)
    if m is None:
        return (3, 0, 0, version)
    major, stability, minor = m.groups()
    return (_STABILITY_RANK[stability], -int(major), -int(minor or 0), "")


@dataclass(frozen=True, slots=True)
class Subresource:
    """A subresource such as `pods/status`, as discovery lists it.

    `group`/`version` are set only when the subresource's kind lives elsewhere (the
    `autoscaling/v1` Scale of `deployments/scale`); otherwise they are empty and the
    parent's apply.
    """

    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = ""


@dataclass(frozen=True, slots=True)
class Storage:
    """Where and how objects of a resource are persisted.

    `prefix` is the key segment under `/registry/` (Kubernetes' resource prefix:
    `services/specs`, `minions`, `<group>/<plural>` for custom resources); objects live
    at `/registry/<prefix>/[<namespace>/]<name>`. `group`/`version`/`kind` name the
    encoding written to the store, which may differ from the served one (events.k8s.io
    Events are stored as core v1 Events; CRDs as apiextensions.k8s.io/v1beta1).
    """

    prefix: str
    group: str
    version: str
    kind: str

    @property
    def version_hash(self) -> str:
        return storage_version_hash(self.group, self.version, self.kind)


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """One served resource in one group/version. `storage` is None for virtual kinds
    (the create-only reviews), which are never persisted."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    storage: Storage | None = None

    @property
    def group_version(self) -> str:
        """`v1` for the core group, else `group/version` (an object's `apiVersion`)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_path_prefix(self) -> str:
        """`/api/v1` for the core group, else `/apis/<group>/<version>`."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None


def custom_resources(crd: Mapping[str, Any]) -> list[ResourceInfo]:
    """The rows of a CustomResourceDefinition (apiextensions.k8s.io/v1): one per served
    version, in `spec.versions` order, stored in the storage version under
    `<group>/<plural>`. KeyError/StopIteration on a CRD missing required fields (one
    that validation would have rejected)."""
    spec = crd["spec"]
    group, names = spec["group"], spec["names"]
    kind, plural = names["kind"], names["plural"]
    storage_version = next(v["name"] for v in spec["versions"] if v.get("storage"))
    rows = []
    for version in spec["versions"]:
        if not version.get("served"):
            continue
        declared = version.get("subresources") or {}
        subresources = []
        if "scale" in declared:
            subresources.append(Subresource("scale", "Scale", _SUB_VERBS, "autoscaling", "v1"))
        if "status" in declared:
            subresources.append(Subresource("status", kind, _SUB_VERBS))
        rows.append(
            ResourceInfo(
                group=group,
                version=version["name"],
                kind=kind,
                plural=plural,
                singular=names.get("singular") or kind.lower(),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                verbs=CRUD_VERBS,
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=tuple(subresources),
                storage=Storage(f"{group}/{plural}", group, storage_version, kind),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class Priority:
    """An APIService's discovery priority (kube-aggregator's groupPriorityMinimum and
    versionPriority): higher sorts first."""

    group: int
    version: int


class ResourceTable:
    """The resources served, indexed by name and by kind, in discovery order.

    `add` and `remove` are idempotent; lookups never raise (they return None or empty).
    """

    def __init__(
        self,
        resources: Iterable[ResourceInfo] = (),
        priorities: Mapping[tuple[str, str], Priority] | None = None,
    ) -> None:
        """`priorities` maps (group, version) to the APIService priority of a built-in
        group/version; others get the priority kube-aggregator gives CRDs."""
        self._priorities = dict(priorities or {})
        self._by_plural: dict[tuple[str, str, str], ResourceInfo] = {}
        self._by_kind: dict[tuple[str, str, str], ResourceInfo] = {}
        self._order: dict[str, list[str]] | None = None
        for info in resources:
            self.add(info)

    @classmethod
    def builtin(cls) -> ResourceTable:
        """A fresh table holding the built-in resources of Kubernetes 1.32."""
        from .builtin_resources import BUILTIN_PRIORITIES, BUILTIN_RESOURCES

        return cls(BUILTIN_RESOURCES, BUILTIN_PRIORITIES)

    def add(self, info: ResourceInfo) -> None:
        """Registers `info`, replacing the row with the same (group, version, plural).

        Raises ValueError if its kind is already served in that group/version under
        another plural (the table stays unchanged).
        """
        kind_key = (info.group, info.version, info.kind)
        existing = self._by_kind.get(kind_key)
        if existing is not None and existing.plural != info.plural:
            raise ValueError(
                f"kind {info.kind} in {info.group_version} is already served as {existing.plural}"
            )
        plural_key = (info.group, info.version, info.plural)
        previous = self._by_plural.get(plural_key)
        if previous is not None:
            del self._by_kind[(previous.group, previous.version, previous.kind)]
        self._by_plural[plural_key] = info
        self._by_kind[kind_key] = info
        self._order = None

    def remove(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        """Unregisters a resource; returns the removed row, or None if it was absent."""
        info = self._by_plural.pop((group, version, plural), None)
        if info is not None:
            del self._by_kind[(group, version, info.kind)]
            self._order = None
        return info

    def get(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        return self._by_plural.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceInfo | None:
        return self._by_kind.get((group, version, kind))

    def __iter__(self) -> Iterator[ResourceInfo]:
        """Every row, in discovery order (groups, then versions, then plurals)."""
        for group in self.groups():
            for version in self.versions(group):
                yield from self.resources(group, version)

    def __len__(self) -> int:
        return len(self._by_plural)

    def groups(self) -> list[str]:
        """Served groups in discovery order, the core group (`""`) first if served."""
        return list(self._ordered())

    def versions(self, group: str) -> list[str]:
        """A group's served versions, the preferred version first."""
        return list(self._ordered().get(group, ()))

    def preferred_version(self, group: str) -> str | None:
        versions = self.versions(group)
        return versions[0] if versions else None

    def resources(self, group: str, version: str) -> list[ResourceInfo]:
        """The rows of one group/version, sorted by plural as discovery lists them."""
        rows = [i for i in self._by_plural.values() if (i.group, i.version) == (group, version)]
        return sorted(rows, key=lambda i: i.plural)

    def _priority(self, group: str, version: str) -> Priority:
        default = Priority(CRD_GROUP_PRIORITY, CRD_VERSION_PRIORITY)
        return self._priorities.get((group, version), default)

    def _ordered(self) -> dict[str, list[str]]:
        if self._order is None:
            self._order = self._compute_order()
        return self._order

    def _compute_order(self) -> dict[str, list[str]]:
        served = {(i.group, i.version) for i in self._by_plural.values()}

        def apiservice_order(gv: tuple[str, str]) -> tuple[bool, int, str]:
            group, version = gv
            return (group != "", -self._priority(group, version).group, f"{version}.{group}")

        ordered: dict[str, list[str]] = {}
        for group, version in sorted(served, key=apiservice_order):
            ordered.setdefault(group, []).append(version)
        for group, versions in ordered.items():
            versions.sort(key=lambda v: (-self._priority(group, v).version, version_sort_key(v)))
        return ordered
