"""The Deployment controller.

`DeploymentController(client, factory, recorder, clock=..., workers=5)`; `run()`.
Modules: `controller` (handlers, sync dispatch), `sync` (the shared ReplicaSet
writes: new/old sets, proportional scaling, history cleanup, status), `rolling` and
`recreate` (the strategies), `progress` (status and conditions), `util` (hashing,
fenceposts, annotations).
"""

from __future__ import annotations

from .controller import DeploymentController
from .util import compute_hash

__all__ = ["DeploymentController", "compute_hash"]
