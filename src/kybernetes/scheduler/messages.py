"""The FailedScheduling message, formatted exactly as Kubernetes' `FitError.Error()`.

"0/N nodes are available: " followed by either the PreFilter rejection message or the
histogram of per-node filter reasons ("<count> <reason>", sorted as *strings*, so
"10 x" sorts before "2 y"), each part ending in ".", then the PostFilter message
(e.g. preemption's) if any. With no nodes at all Kubernetes reports
`NO_NODES_AVAILABLE` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

NO_NODES_AVAILABLE: Final = "no nodes available to schedule pods"


def fit_error_message(
    num_all_nodes: int,
    reason_counts: Mapping[str, int],
    *,
    pre_filter_message: str = "",
    post_filter_message: str = "",
) -> str:
    """Kubernetes' FitError message; `reason_counts` maps a reason to its node count."""
    message = f"0/{num_all_nodes} nodes are available:"
    if pre_filter_message:
        message += f" {pre_filter_message}."
    else:
        histogram = sorted(f"{count} {reason}" for reason, count in reason_counts.items())
        if histogram:
            message += f" {', '.join(histogram)}."
    if post_filter_message:
        message += f" {post_filter_message}."
    return message
