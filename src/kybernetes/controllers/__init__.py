"""Controllers of the controller manager: one subpackage per controller.

Every controller is level-triggered (Kubernetes' ReplicaSet controller is the model):
informer event handlers only enqueue keys; a worker's `sync(key)` re-reads the informer
caches and reconciles the world toward the spec, so a restart loses nothing.
`base` holds that shared plumbing (handlers that enqueue keys, owner lookups, the
`run_queues` loop); `expectations` keeps a controller from acting twice on writes
its caches have not shown yet.

- `replicaset`: `ReplicaSetController` (with `kind=REPLICATION_CONTROLLER`, v1
  ReplicationControllers too): keeps the right number of pods per set.
- `deployment`: `DeploymentController`: rolls ReplicaSets per pod-template hash.
- `garbagecollector`: `GarbageCollector`: deletes dependents whose owners are gone,
  and carries out foreground and orphan deletion.
- `namespace`: `NamespaceController`: empties a terminating namespace, then finalizes it.
- `serviceaccount`: `ServiceAccountController`: a `default` ServiceAccount everywhere.
- `nodelifecycle`: `NodeLifecycleController`: marks nodes that stopped heartbeating
  Unknown, taints them and evicts their pods by their tolerations.
- `nodeipam`: `NodeIpamController`: a pod CIDR for every node.
- `endpoints`, `endpointslice`, `endpointslicemirroring`: a Service's Endpoints and
  EndpointSlices from its pods; slices mirroring hand-written Endpoints.
- `podgc`: `PodGCController`: force-deletes surplus terminated and orphaned pods.
- `resourcequota`: `ResourceQuotaController`: quotas' `status.used`.
- `disruption`: `DisruptionController`: PodDisruptionBudgets' status.
- `history`: ControllerRevisions, the template history of DaemonSets and StatefulSets.
- `daemonset`: `DaemonSetController`: one daemon pod on every eligible node.
- `statefulset`: `StatefulSetController`: ordered pods with stable identities.
- `job`: `JobController`: runs Jobs' pods to completion (finalizer-tracked).
- `cronjob`: `CronJobController`: starts Jobs on a schedule.
- `ttlafterfinished`: `TTLAfterFinishedController`: deletes finished Jobs after a TTL.
"""

from __future__ import annotations
