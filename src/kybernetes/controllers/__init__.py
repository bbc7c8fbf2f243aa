"""Controllers of the controller manager: one subpackage per controller.

Every controller is level-triggered (Kubernetes' ReplicaSet controller is the model):
informer event handlers only enqueue keys; a worker's `sync(key)` re-reads the informer
caches and reconciles the world toward the spec, so a restart loses nothing.
`expectations` keeps a controller from acting twice on writes its caches have not
shown yet.

- `replicaset`: `ReplicaSetController` (with `kind=REPLICATION_CONTROLLER`, v1
  ReplicationControllers too): keeps the right number of pods per set.
- `deployment`: `DeploymentController`: rolls ReplicaSets per pod-template hash.
- `garbagecollector`: `GarbageCollector`: deletes dependents whose owners are gone,
  and carries out foreground and orphan deletion.
- `namespace`: `NamespaceController`: empties a terminating namespace, then finalizes it.
- `serviceaccount`: `ServiceAccountController`: a `default` ServiceAccount everywhere.
"""

from __future__ import annotations
