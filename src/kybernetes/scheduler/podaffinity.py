"""Pod affinity terms, parsed once per pod version (`PodAffinity`, `AffinityTerm`).

A term (`podAffinityTerm`) selects pods by `labelSelector` (absent selects nothing,
`{}` everything) in a set of namespaces: `namespaces` united with the namespaces whose
labels match `namespaceSelector` (`{}` = every namespace); with neither, the pod's own
namespace — Kubernetes' `framework.AffinityTerm`. `matchLabelKeys` and
`mismatchLabelKeys` add `key in (pod's value)` / `key notin (pod's value)` requirements
for the keys the pod carries, as Kubernetes 1.32 does. An invalid selector matches
nothing (the API server rejects such pods anyway).

`counter_key(term, namespace_labels)` identifies what a term counts, so per-node counts
can be shared by every pod of one template (see `podcounts`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from kybernetes.api.selectors import (
    NOTHING,
    Operator,
    Requirement,
    Selector,
    SelectorError,
    label_selector_as_selector,
)

NamespaceLabels = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, slots=True)
class AffinityTerm:
    selector: Selector
    namespaces: frozenset[str]
    namespace_selector: Selector | None  # None: no namespaceSelector
    topology_key: str

    def namespace_set(self, namespace_labels: NamespaceLabels) -> frozenset[str] | None:
        """The namespaces the term covers; None means all of them."""
        if self.namespace_selector is None:
            return self.namespaces
        if self.namespace_selector.empty:
            return None
        chosen = {
            name
            for name, labels in namespace_labels.items()
            if self.namespace_selector.matches(labels)
        }
        return self.namespaces | chosen

    def matches(
        self, namespace: str, labels: Mapping[str, str], namespace_labels: NamespaceLabels
    ) -> bool:
        """Whether a pod in `namespace` with `labels` is selected (`AffinityTerm.Matches`)."""
        covered = self.namespace_set(namespace_labels)
        if covered is not None and namespace not in covered:
            return False
        return self.selector.matches(labels)


@dataclass(frozen=True, slots=True)
class WeightedTerm:
    weight: int
    term: AffinityTerm


# How an existing pod's term acts on incoming pods: (kind, term, weight).
REQUIRED: Final = "required"
REQUIRED_ANTI: Final = "required-anti"
PREFERRED: Final = "preferred"
PREFERRED_ANTI: Final = "preferred-anti"
TermEntry = tuple[str, AffinityTerm, int]


@dataclass(frozen=True, slots=True)
class PodAffinity:
    required_affinity: tuple[AffinityTerm, ...] = ()
    required_anti_affinity: tuple[AffinityTerm, ...] = ()
    preferred_affinity: tuple[WeightedTerm, ...] = ()
    preferred_anti_affinity: tuple[WeightedTerm, ...] = ()

    @property
    def entries(self) -> tuple[TermEntry, ...]:
        """Every term as (kind, term, weight); required terms weigh 1."""
        return (
            *((REQUIRED, t, 1) for t in self.required_affinity),
            *((REQUIRED_ANTI, t, 1) for t in self.required_anti_affinity),
            *((PREFERRED, w.term, w.weight) for w in self.preferred_affinity),
            *((PREFERRED_ANTI, w.term, w.weight) for w in self.preferred_anti_affinity),
        )


NO_AFFINITY: Final = PodAffinity()


def parse_pod_affinity(
    affinity: Mapping[str, Any], namespace: str, labels: Mapping[str, str]
) -> PodAffinity:
    """The pod's podAffinity and podAntiAffinity terms."""
    positive = affinity.get("podAffinity") or {}
    negative = affinity.get("podAntiAffinity") or {}
    required = "requiredDuringSchedulingIgnoredDuringExecution"
    preferred = "preferredDuringSchedulingIgnoredDuringExecution"
    parsed = PodAffinity(
        required_affinity=_terms(positive.get(required), namespace, labels),
        required_anti_affinity=_terms(negative.get(required), namespace, labels),
        preferred_affinity=_weighted(positive.get(preferred), namespace, labels),
        preferred_anti_affinity=_weighted(negative.get(preferred), namespace, labels),
    )
    return NO_AFFINITY if parsed == NO_AFFINITY else parsed


def _terms(terms: Any, namespace: str, labels: Mapping[str, str]) -> tuple[AffinityTerm, ...]:
    return tuple(_term(term, namespace, labels) for term in terms or ())


def _weighted(terms: Any, namespace: str, labels: Mapping[str, str]) -> tuple[WeightedTerm, ...]:
    return tuple(
        WeightedTerm(
            int(w.get("weight") or 0), _term(w.get("podAffinityTerm") or {}, namespace, labels)
        )
        for w in terms or ()
        if int(w.get("weight") or 0)
    )


def _term(term: Mapping[str, Any], namespace: str, labels: Mapping[str, str]) -> AffinityTerm:
    selector = _selector(term.get("labelSelector"))
    if selector.selectable and term.get("labelSelector") is not None:
        extra = [
            Requirement(key, Operator.IN, (labels[key],))
            for key in term.get("matchLabelKeys") or ()
            if key in labels
        ] + [
            Requirement(key, Operator.NOT_IN, (labels[key],))
            for key in term.get("mismatchLabelKeys") or ()
            if key in labels
        ]
        selector = selector.add(*extra)
    raw_ns_selector = term.get("namespaceSelector")
    namespaces = frozenset(term.get("namespaces") or ())
    if raw_ns_selector is None and not namespaces:
        namespaces = frozenset({namespace})
    return AffinityTerm(
        selector=selector,
        namespaces=namespaces,
        namespace_selector=None if raw_ns_selector is None else _selector(raw_ns_selector),
        topology_key=term.get("topologyKey") or "",
    )


def _selector(raw: Any) -> Selector:
    try:
        return label_selector_as_selector(raw)
    except (SelectorError, AttributeError, TypeError):
        return NOTHING


def counter_key(term: AffinityTerm, namespace_labels: NamespaceLabels) -> Hashable:
    """What the term counts: (covered namespaces or None for all, selector)."""
    return ("affinity", term.namespace_set(namespace_labels), term.selector)
