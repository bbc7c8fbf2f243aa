"""The ReplicaSet controller (and the ReplicationController one, which shares it).

`ReplicaSetController(client, factory, recorder, clock=..., workers=5,
burst_replicas=500)` manages apps/v1 ReplicaSets; pass
`kind=REPLICATION_CONTROLLER` for v1 ReplicationControllers. `pods` holds the pod
helpers the other workload controllers share.
"""

from __future__ import annotations

from .controller import (
    REPLICA_SET,
    REPLICATION_CONTROLLER,
    ControllerKind,
    ReplicaSetController,
    slow_start_batch,
)

__all__ = [
    "REPLICATION_CONTROLLER",
    "REPLICA_SET",
    "ControllerKind",
    "ReplicaSetController",
    "slow_start_batch",
]
