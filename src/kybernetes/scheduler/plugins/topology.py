"""Topology domains over the node snapshot: sums of per-node values by label value.

A topology domain is the set of nodes sharing one value of a label (the topology
key). `domain_totals(snapshot, key, values, eligible)` adds `values` up per domain over
the `eligible` nodes and hands every node the total of its own domain; nodes without
the label are not in any domain (`has_label` False, total 0).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kybernetes.scheduler.framework import Mask
from kybernetes.scheduler.snapshot import NodeSnapshot

Values = npt.NDArray[np.int64]


def has_label(snapshot: NodeSnapshot, key: str) -> Mask:
    """The slots whose node carries label `key`."""
    column, _ = snapshot.label_column(key)
    if column is None:
        return np.zeros(snapshot.capacity, dtype=np.bool_)
    present: Mask = (column >= 0) & snapshot.present
    return present


def domain_totals(
    snapshot: NodeSnapshot, key: str, values: Values, eligible: Mask | None = None
) -> tuple[Values, Mask]:
    """(per-slot total of `values` over the node's domain, `has_label` mask)."""
    column, ids = snapshot.label_column(key)
    if column is None:
        zeros = np.zeros(snapshot.capacity, dtype=np.int64)
        return zeros, np.zeros(snapshot.capacity, dtype=np.bool_)
    has = (column >= 0) & snapshot.present
    counted = has if eligible is None else has & eligible
    totals = np.bincount(column[counted], weights=values[counted], minlength=len(ids) + 1)
    per_slot = np.where(has, totals[np.maximum(column, 0)], 0).astype(np.int64)
    return per_slot, has
