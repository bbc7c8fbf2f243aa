"""The scheduler's Prometheus metrics, named and labelled as kube-scheduler's.

- `scheduler_schedule_attempts_total{result, profile}`: scheduling cycles by result
  (`scheduled`, `unschedulable`, `error`);
- `scheduler_scheduling_attempt_duration_seconds{result, profile}`: the cycle's
  latency (Filter to the node's choice; the binding runs after it);
- `scheduler_pod_scheduling_sli_duration_seconds{attempts}`: from the pod's first
  entry into the queue to its binding;
- `scheduler_pending_pods{queue}`: pods in `active`, `backoff`, `unschedulable` and
  `gated`, read from the queue at scrape time;
- `scheduler_preemption_attempts_total` and `scheduler_preemption_victims`.

Each `SchedulerMetrics` has its own registry, so several schedulers in one process
(tests) do not mix their numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_DURATION_BUCKETS = tuple(0.001 * 2**i for i in range(15))  # 1 ms .. 16 s
_SLI_BUCKETS = tuple(0.01 * 2**i for i in range(20))  # 10 ms .. ~1.5 h
_VICTIM_BUCKETS = tuple(float(2**i) for i in range(7))  # 1 .. 64


class _PendingPods(Collector):
    def __init__(self, metrics: SchedulerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "scheduler_pending_pods",
            "Number of pending pods, by the queue type.",
            labels=["queue"],
        )
        counts = self.metrics.queue_counts()
        for queue in ("active", "backoff", "unschedulable", "gated"):
            family.add_metric([queue], counts.get(queue, 0))
        yield family


class SchedulerMetrics:
    """See the module docstring. `queue_counts` is read at every scrape; a scheduler
    points it at its queue (the metrics outlive a scheduler that lost leadership)."""

    def __init__(self) -> None:
        self.queue_counts: Callable[[], Mapping[str, int]] = dict
        self.registry = CollectorRegistry()
        self.attempts = Counter(
            "scheduler_schedule_attempts",
            "Number of attempts to schedule pods, by the result.",
            ["result", "profile"],
            registry=self.registry,
        )
        self.attempt_duration = Histogram(
            "scheduler_scheduling_attempt_duration_seconds",
            "Scheduling attempt latency in seconds (scheduling algorithm + binding).",
            ["result", "profile"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.sli_duration = Histogram(
            "scheduler_pod_scheduling_sli_duration_seconds",
            "E2e latency for a pod being scheduled, from the time the pod enters the "
            "scheduling queue and might involve multiple scheduling attempts.",
            ["attempts"],
            buckets=_SLI_BUCKETS,
            registry=self.registry,
        )
        self.preemption_attempts = Counter(
            "scheduler_preemption_attempts",
            "Total preemption attempts in the cluster till now.",
            registry=self.registry,
        )
        self.preemption_victims = Histogram(
            "scheduler_preemption_victims",
            "Number of selected preemption victims.",
            buckets=_VICTIM_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_PendingPods(self))

    def attempt(self, result: str, profile: str, seconds: float) -> None:
        self.attempts.labels(result, profile).inc()
        self.attempt_duration.labels(result, profile).observe(seconds)
