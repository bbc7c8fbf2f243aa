"""Defaults of flowcontrol.apiserver.k8s.io/v1 (API Priority and Fairness, 1.32).

FlowSchema: matching precedence 1000. PriorityLevelConfiguration: a limited level gets
30 nominal concurrency shares, 0% lendable and, when it queues, 64 queues, a hand
size of 8 and a queue length limit of 50; an exempt level gets 0 shares, 0% lendable.

Invariants: in place, fills only unset fields, idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    Defaulter,
    JSONObject,
    path,
    set_if_absent,
    set_if_zero,
    struct,
)

GROUP: Final = "flowcontrol.apiserver.k8s.io"
MATCHING_PRECEDENCE: Final = 1000
NOMINAL_CONCURRENCY_SHARES: Final = 30
QUEUES: Final = 64
HAND_SIZE: Final = 8
QUEUE_LENGTH_LIMIT: Final = 50


def _flow_schema(flow_schema: JSONObject) -> None:
    if (spec := struct(flow_schema, "spec")) is not None:
        set_if_zero(spec, "matchingPrecedence", MATCHING_PRECEDENCE)


def _priority_level(level: JSONObject) -> None:
    if (limited := path(level, "spec", "limited")) is not None:
        set_if_absent(limited, "nominalConcurrencyShares", NOMINAL_CONCURRENCY_SHARES)
        set_if_absent(limited, "lendablePercent", 0)
        if (queuing := path(limited, "limitResponse", "queuing")) is not None:
            set_if_zero(queuing, "queues", QUEUES)
            set_if_zero(queuing, "handSize", HAND_SIZE)
            set_if_zero(queuing, "queueLengthLimit", QUEUE_LENGTH_LIMIT)
    if (exempt := path(level, "spec", "exempt")) is not None:
        set_if_absent(exempt, "nominalConcurrencyShares", 0)
        set_if_absent(exempt, "lendablePercent", 0)


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    (GROUP, "v1", "FlowSchema"): _flow_schema,
    (GROUP, "v1", "PriorityLevelConfiguration"): _priority_level,
}
