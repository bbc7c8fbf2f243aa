"""Clients of the Kubernetes API: how every component other than the API server
reaches it (client-go's essentials).

- `kubeconfig`: the connection settings (`RestConfig`) and the files that carry them.
- `rest`: `APIClient`, the async REST client (get, list, create, update, patch, delete,
  bind, watch); `resource`: the `Resource` values it takes; `errors`: `APIError` and
  friends; `watch`: one watch's event stream.
- `informer` / `indexer` / `factory`: cached, indexed, watched copies of resources with
  add/update/delete handlers, shared per process.
- `workqueue` / `ratelimit`: de-duplicating, rate-limited queues of keys and the
  workers that drain them.
- `leaderelection`: Lease-based leader election. `events`: the Event recorder.
- `clock`: the injectable clock all of the above run on.
"""

from __future__ import annotations

from .clock import Clock, FakeClock, SystemClock
from .errors import (
    APIError,
    Expired,
    TransportError,
    is_already_exists,
    is_conflict,
    is_expired,
    is_forbidden,
    is_invalid,
    is_not_found,
)
from .events import EventRecorder
from .factory import SharedInformerFactory
from .indexer import BY_NAMESPACE, BY_NODE, BY_OWNER, Indexer, object_key, split_key
from .informer import DeletedFinalStateUnknown, Informer
from .kubeconfig import KubeconfigError, RestConfig, load_kubeconfig, write_kubeconfig
from .leaderelection import LeaderElectionConfig, LeaderElector
from .ratelimit import (
    BucketRateLimiter,
    ItemExponentialRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)
from .resource import Resource
from .rest import APIClient
from .watch import WatchEvent, WatchStream
from .workqueue import QueueShutDown, Requeue, WorkQueue, run_workers

__all__ = [
    "BY_NAMESPACE",
    "BY_NODE",
    "BY_OWNER",
    "APIClient",
    "APIError",
    "BucketRateLimiter",
    "Clock",
    "DeletedFinalStateUnknown",
    "EventRecorder",
    "Expired",
    "FakeClock",
    "Indexer",
    "Informer",
    "ItemExponentialRateLimiter",
    "KubeconfigError",
    "LeaderElectionConfig",
    "LeaderElector",
    "MaxOfRateLimiter",
    "QueueShutDown",
    "RateLimiter",
    "Requeue",
    "Resource",
    "RestConfig",
    "SharedInformerFactory",
    "SystemClock",
    "TransportError",
    "WatchEvent",
    "WatchStream",
    "WorkQueue",
    "default_controller_rate_limiter",
    "is_already_exists",
    "is_conflict",
    "is_expired",
    "is_forbidden",
    "is_invalid",
    "is_not_found",
    "load_kubeconfig",
    "object_key",
    "run_workers",
    "split_key",
    "write_kubeconfig",
]
