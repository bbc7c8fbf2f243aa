"""Kubernetes' `helper.DefaultNormalizeScore`, vectorised.

Scores are scaled so the highest becomes `max_priority` (integer division, scores are
non-negative); `reverse` flips them. All-zero scores stay zero, or become
`max_priority` when reversed.
"""

from __future__ import annotations

import numpy as np

from kybernetes.scheduler.framework import Scores


def default_normalize_score(max_priority: int, scores: Scores, *, reverse: bool) -> Scores:
    highest = int(scores.max()) if scores.size else 0
    if highest <= 0:
        return np.full_like(scores, max_priority) if reverse else scores
    scaled = max_priority * scores // highest
    return max_priority - scaled if reverse else scaled
