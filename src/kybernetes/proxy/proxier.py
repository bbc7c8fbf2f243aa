"""The proxy's loop: Services and EndpointSlices in, packet-filter rules out.

`Proxier` is level-triggered like kube-proxy's: informer events only record which
Services are dirty (a Service's own change, or a change of an EndpointSlice labelled
with its name) and wake the loop. The loop syncs at most once per `min_sync_period`,
at least once per `sync_period`, and rewrites the whole table once per
`full_sync_period` (and first, and after a failed sync). A sync recomputes only the
dirty Services (`rules.compute_service`, cached per Service), so the `RuleSet` handed
to the applier equals `rules.compute(all services, all slices, node)` at O(changed)
cost; the applier turns it into an incremental transaction.

Health is kube-proxy's rule: unhealthy once an update has been pending (queued and
not yet synced) for longer than `health_timeout` (default twice `sync_period`); the
first sync is pending from the start. Metrics (prometheus-client, in the given
registry): `kubeproxy_sync_proxy_rules_duration_seconds` (+ `_full_`/`_partial_`
variants), `kubeproxy_sync_proxy_rules_last_timestamp_seconds`,
`kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds`,
`kubeproxy_sync_proxy_rules_{nftables_rules,iptables_total}`,
`kubeproxy_sync_proxy_rules_failures_total`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from kybernetes.client import Clock, DeletedFinalStateUnknown, Informer, SystemClock, object_key

from .rules import NodeConfig, RuleSet, ServicePort, compute_service, service_key

log = logging.getLogger(__name__)

Obj = dict[str, Any]
BUCKETS = tuple(0.001 * 2**i for i in range(15))  # kube-proxy's exponential buckets


class Applier(Protocol):
    """What the proxier needs from the nftables/iptables appliers."""

    rule_count: int

    def sync(self, rules: RuleSet, *, full: bool = False) -> Awaitable[object]: ...

    def cleanup(self) -> Awaitable[None]: ...


class _Metrics:
    def __init__(self, registry: CollectorRegistry, mode: str) -> None:
        def histogram(name: str, doc: str) -> Histogram:
            return Histogram(name, doc, registry=registry, buckets=BUCKETS)

        self.duration = histogram(
            "kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds"
        )
        self.full = histogram(
            "kubeproxy_sync_full_proxy_rules_duration_seconds", "Full SyncProxyRules latency"
        )
        self.partial = histogram(
            "kubeproxy_sync_partial_proxy_rules_duration_seconds", "Partial SyncProxyRules latency"
        )
        self.last = Gauge(
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
            "The last time proxy rules were successfully synced",
            registry=registry,
        )
        self.queued = Gauge(
            "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
            "The last time a sync of proxy rules was queued",
            registry=registry,
        )
        name = (
            "kubeproxy_sync_proxy_rules_nftables_rules"
            if mode == "nftables"
            else "kubeproxy_sync_proxy_rules_iptables_total"
        )
        self.rules = Gauge(name, f"Number of {mode} rules programmed", registry=registry)
        self.failures = Counter(
            "kubeproxy_sync_proxy_rules_failures", "Failed proxy rule syncs", registry=registry
        )


class Proxier:
    """Keeps the applier's rules in line with the informers' Services and slices."""

    def __init__(
        self,
        applier: Applier,
        node: NodeConfig,
        *,
        mode: str = "nftables",
        registry: CollectorRegistry | None = None,
        clock: Clock | None = None,
        min_sync_period: float = 0.1,
        sync_period: float = 30.0,
        full_sync_period: float = 3600.0,
        health_timeout: float | None = None,
    ) -> None:
        self.applier = applier
        self.node = node
        self._clock = clock or SystemClock()
        self.min_sync_period = min_sync_period
        self.sync_period = sync_period
        self.full_sync_period = full_sync_period
        self.health_timeout = health_timeout if health_timeout is not None else 2 * sync_period
        self._metrics = _Metrics(registry or CollectorRegistry(), mode)
        self._services: dict[str, Obj] = {}
        self._slices: dict[str, dict[str, Obj]] = {}  # service key -> slice key -> slice
        self._slice_service: dict[str, str] = {}  # slice key -> service key
        self._ports: dict[str, list[ServicePort]] = {}  # service key -> its ports
        self._flat: dict[str, ServicePort] = {}  # port name -> port, all Services
        self._last: Mapping[str, ServicePort] | None = None  # the last ruleset's ports
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._pending_since: float | None = None  # set from the first sync() on
        self._last_full: float | None = None
        self.syncs = 0

    # --- events -----------------------------------------------------------------------

    def _queue(self, key: str) -> None:
        self._dirty.add(key)
        if self._pending_since is None:
            self._pending_since = self._clock.now()
            self._metrics.queued.set(self._clock.wall().timestamp())
        self._wake.set()

    def on_service(self, obj: Obj) -> None:
        """A Service was added or changed."""
        key = object_key(obj)
        self._services[key] = obj
        self._queue(key)

    def on_service_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        key = obj.key if isinstance(obj, DeletedFinalStateUnknown) else object_key(obj)
        self._services.pop(key, None)
        self._queue(key)

    def on_slice(self, obj: Obj) -> None:
        """An EndpointSlice was added or changed (its service label may have moved)."""
        key = object_key(obj)
        self._drop_slice(key)
        service = service_key(obj)
        if service:
            self._slices.setdefault(service, {})[key] = obj
            self._slice_service[key] = service
            self._queue(service)

    def on_slice_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self._drop_slice(obj.key if isinstance(obj, DeletedFinalStateUnknown) else object_key(obj))

    def _drop_slice(self, key: str) -> None:
        service = self._slice_service.pop(key, None)
        if service is not None:
            slices = self._slices.get(service, {})
            slices.pop(key, None)
            if not slices:
                self._slices.pop(service, None)
            self._queue(service)

    def attach(self, services: Informer, endpointslices: Informer) -> None:
        """Registers the handlers on the two informers."""
        services.add_handler(
            self.on_service, lambda _, new: self.on_service(new), self.on_service_deleted
        )
        endpointslices.add_handler(
            self.on_slice, lambda _, new: self.on_slice(new), self.on_slice_deleted
        )

    # --- syncing ----------------------------------------------------------------------

    def ruleset(self) -> RuleSet:
        """Recomputes the dirty Services and answers the whole rule set: a copy of the
        flat port table, with the previous one as `base` and the touched names as
        `changed` (so the applier diffs in O(changed))."""
        touched: set[str] = set()
        for key in self._dirty:
            for sp in self._ports.pop(key, ()):
                del self._flat[sp.name]
                touched.add(sp.name)
            svc = self._services.get(key)
            if svc is not None:
                parts = compute_service(svc, self._slices.get(key, {}).values(), self.node)
                self._ports[key] = parts
                self._flat.update((sp.name, sp) for sp in parts)
                touched.update(sp.name for sp in parts)
        self._dirty.clear()
        rules = RuleSet(self.node, dict(self._flat), self._last, frozenset(touched))
        self._last = rules.ports
        return rules

    async def sync(self) -> None:
        """One sync (full when due); on failure the same Services stay dirty and the
        next sync is a full one. Raises nothing but cancellation."""
        now = self._clock.now()
        full = self._last_full is None or now - self._last_full >= self.full_sync_period
        dirty = set(self._dirty)
        if self._pending_since is None:
            self._pending_since = now
        rules = self.ruleset()
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await self.applier.sync(rules, full=full)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            log.error("syncing proxy rules failed: %s", e)
            self._metrics.failures.inc()
            self._dirty |= dirty
            self._last_full = None
            return
        elapsed = loop.time() - started
        self._metrics.duration.observe(elapsed)
        (self._metrics.full if full else self._metrics.partial).observe(elapsed)
        self._metrics.last.set(self._clock.wall().timestamp())
        self._metrics.rules.set(self.applier.rule_count)
        if full:
            self._last_full = now
        if not self._dirty:
            self._pending_since = None
        self.syncs += 1

    def healthy(self) -> bool:
        """kube-proxy's /healthz rule (module docstring)."""
        since = self._pending_since
        return since is None or self._clock.now() - since <= self.health_timeout

    async def run(self, synced: Awaitable[object] | None = None) -> None:
        """Syncs until cancelled (module docstring); first waits for `synced` (the
        informers' initial lists), so the first sync sees every Service."""
        if self._pending_since is None:
            self._pending_since = self._clock.now()
        if synced is not None:
            await synced
        last = -float("inf")
        while True:
            now = self._clock.now()
            if now - last < self.min_sync_period:
                await self._clock.sleep(self.min_sync_period - (now - last))
            last = self._clock.now()
            self._wake.clear()
            await self.sync()
            if self._dirty and not self._wake.is_set():  # failed: retry after a pause
                await self._clock.sleep(max(self.min_sync_period, 1.0))
                continue
            timer = self._clock.call_at(last + self.sync_period, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                timer.cancel()
