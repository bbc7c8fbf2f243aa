"""ImageLocality: prefer nodes that already hold the pod's images.

For every container and init container image (normalized with ":latest"), a node
holding it adds `int(size * nodes_with_image / all_nodes)`; the sum is clamped to
[23 MiB, 1000 MiB x containers] and mapped linearly onto [0, 100] (Kubernetes'
`calculatePriority`). Weight 1 by default; no normalization. Per-image node vectors
are memoized in the snapshot until a node changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, Final

import numpy as np

from kybernetes.scheduler.framework import MAX_NODE_SCORE, CycleState, Indices, Scores
from kybernetes.scheduler.podinfo import PodInfo
from kybernetes.scheduler.snapshot import NodeSnapshot

NAME: Final = "ImageLocality"
MB: Final = 1024 * 1024
MIN_THRESHOLD: Final = 23 * MB
MAX_CONTAINER_THRESHOLD: Final = 1000 * MB


class ImageLocality:
    name = NAME

    def __init__(self, args: Mapping[str, Any]) -> None:
        del args

    def score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Scores:
        if not pod.images:
            return np.zeros(len(nodes), dtype=np.int64)
        sums = np.zeros(len(nodes), dtype=np.int64)
        for image in pod.images:
            if image in snapshot.image_nodes:
                sums += snapshot.memo((NAME, image), partial(_scaled, snapshot, image))[nodes]
        max_threshold = MAX_CONTAINER_THRESHOLD * len(pod.images)
        clamped = np.clip(sums, MIN_THRESHOLD, max_threshold)
        return MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


def _scaled(snapshot: NodeSnapshot, image: str) -> Scores:
    """Every slot's `scaledImageScore` for one image (0 where the node lacks it)."""
    holders = snapshot.image_nodes[image]
    spread = len(holders) / snapshot.num_nodes
    slots = np.fromiter(holders.keys(), dtype=np.intp, count=len(holders))
    sizes = np.fromiter(holders.values(), dtype=np.float64, count=len(holders))
    scaled = np.zeros(snapshot.capacity, dtype=np.int64)
    scaled[slots] = (sizes * spread).astype(np.int64)
    return scaled
