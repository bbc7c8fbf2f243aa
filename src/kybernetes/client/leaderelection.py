"""Lease-based leader election, client-go's `leaderelection` with a `LeaseLock`.

The lock is a `coordination.k8s.io/v1` Lease whose spec holds the record:
`holderIdentity`, `leaseDurationSeconds`, `acquireTime`, `renewTime`,
`leaseTransitions`. Each try reads the Lease and, if we may take it, writes it back
with a compare-and-swap on its resourceVersion (or creates it), so of several electors
racing exactly one wins a given version.

- A candidate may take the lease when it is free (no holder, as after a release) or
  when it has not *seen the record change* for `leaseDurationSeconds`, measured on its
  own clock from when it observed the change (never comparing the holder's
  timestamps with ours, so clock skew does not matter). Taking it from another holder
  sets `acquireTime` and increments `leaseTransitions`.
- Candidates retry every `retry_period` (jittered up to 2.2x, like client-go).
- The leader renews (rewrites `renewTime`) every `retry_period`. If it cannot renew
  for `renew_deadline`, it has lost: its work is cancelled and `run` returns.
- `lease_duration > renew_deadline > 1.2 * retry_period` (checked), so a leader gives
  up before anyone else may take over. Defaults: 15 s / 10 s / 2 s.

`run(on_started_leading, ...)` waits to acquire, runs `on_started_leading()` while
renewing, and ends it when leadership is lost (the coroutine is cancelled) or when it
returns. On the way out it releases the lease (holder cleared, so a successor takes
over at once) when `release_on_cancel` is set and we still lead. Errors talking to
the API are retried within these timings; an exception of the work propagates (in an
ExceptionGroup, as from any TaskGroup). One `run` at a time per elector.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import Clock, SystemClock
from .errors import APIError, TransportError, is_not_found
from .resource import LEASES
from .rest import APIClient

log = logging.getLogger(__name__)

JITTER_FACTOR = 1.2


@dataclass(frozen=True, slots=True)
class LeaderElectionConfig:
    """Which Lease, who we are, and the timings (seconds; see module docstring)."""

    name: str
    namespace: str
    identity: str
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        if not self.identity:
            raise ValueError("leader election needs an identity")
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError("renew_deadline must be greater than 1.2 * retry_period")

    @property
    def lease_duration_seconds(self) -> int:
        return max(1, round(self.lease_duration))


def micro_time(moment: datetime) -> str:
    """A `MicroTime` as Kubernetes writes it: RFC 3339, microseconds, UTC."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """One candidate for one Lease (see module docstring)."""

    def __init__(
        self, client: APIClient, config: LeaderElectionConfig, *, clock: Clock | None = None
    ) -> None:
        self.client = client
        self.config = config
        self._clock = clock or SystemClock()
        self._observed: dict[str, Any] | None = None
        self._observed_at = 0.0
        self._leading = False
        self._on_new_leader: Callable[[str], None] | None = None

    @property
    def is_leader(self) -> bool:
        """Whether we hold the lease (acquired or renewed within the deadline)."""
        return self._leading

    @property
    def leader(self) -> str:
        """The holder in the last record observed ("" if none or not yet read)."""
        return str((self._observed or {}).get("holderIdentity") or "")

    async def run(
        self,
        on_started_leading: Callable[[], Coroutine[Any, Any, None]],
        *,
        on_stopped_leading: Callable[[], None] | None = None,
        on_new_leader: Callable[[str], None] | None = None,
    ) -> None:
        """Acquires, leads until lost or done, then releases (see module docstring).

        `on_stopped_leading` runs once leadership ends (if it was acquired);
        `on_new_leader(identity)` whenever the observed holder changes. Both are plain
        callables that must not block.
        """
        self._on_new_leader = on_new_leader
        await self._acquire()
        log.info("%s: acquired lease %s", self.config.identity, self._lease_ref())
        try:
            async with asyncio.TaskGroup() as tg:
                work = tg.create_task(on_started_leading())
                renewing = tg.create_task(self._renew())
                work.add_done_callback(lambda _: renewing.cancel())
                renewing.add_done_callback(lambda _: work.cancel())
        finally:
            if self._leading and self.config.release_on_cancel:
                await self._release()
            self._leading = False
            if on_stopped_leading is not None:
                on_stopped_leading()

    async def _acquire(self) -> None:
        while not await self._try(self.config.renew_deadline):
            jitter = 1 + random.random() * JITTER_FACTOR
            await self._clock.sleep(self.config.retry_period * jitter)
        self._leading = True

    async def _renew(self) -> None:
        """Renews every retry period; returns when a renewal misses its deadline."""
        while True:
            deadline = self._clock.now() + self.config.renew_deadline
            while not await self._try(deadline - self._clock.now()):
                await self._clock.sleep(self.config.retry_period)
                if self._clock.now() >= deadline:
                    log.warning(
                        "%s: failed to renew lease %s within %.1fs; leadership lost",
                        *(self.config.identity, self._lease_ref(), self.config.renew_deadline),
                    )
                    self._leading = False
                    return
            await self._clock.sleep(self.config.retry_period)

    async def _try(self, budget: float) -> bool:
        """One tryAcquireOrRenew, bounded by `budget` seconds; True if we hold it."""
        try:
            async with asyncio.timeout(max(budget, 0.0)):
                return await self._try_acquire_or_renew()
        except (APIError, TransportError, TimeoutError) as e:
            log.info("%s: lease %s: %s", self.config.identity, self._lease_ref(), e)
            return False

    async def _try_acquire_or_renew(self) -> bool:
        config = self.config
        now, wall = self._clock.now(), micro_time(self._clock.wall())
        try:
            lease = await self.client.get(LEASES, config.name, config.namespace)
        except APIError as e:
            if not is_not_found(e):
                raise
            created = await self.client.create(
                LEASES,
                {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": config.name, "namespace": config.namespace},
                    "spec": self._record(wall, wall, 0),
                },
            )
            self._observe(created.get("spec") or {}, now)
            return True
        spec: dict[str, Any] = lease.get("spec") or {}
        if spec != self._observed:
            self._observe(spec, now)
        holder = str(spec.get("holderIdentity") or "")
        duration = float(spec.get("leaseDurationSeconds") or 0)
        if holder and holder != config.identity and self._observed_at + duration > now:
            return False  # another candidate holds an unexpired lease
        transitions = int(spec.get("leaseTransitions") or 0)
        if holder == config.identity:
            record = self._record(str(spec.get("acquireTime") or wall), wall, transitions)
        else:
            record = self._record(wall, wall, transitions + 1)
        updated = await self.client.update(LEASES, {**lease, "spec": record})
        self._observe(updated.get("spec") or {}, now)
        return True

    async def _release(self) -> None:
        """Clears the holder so a successor need not wait out the lease. Best effort."""
        config = self.config
        try:
            async with asyncio.timeout(config.renew_deadline):
                lease = await self.client.get(LEASES, config.name, config.namespace)
                spec = lease.get("spec") or {}
                if spec.get("holderIdentity") != config.identity:
                    return
                wall = micro_time(self._clock.wall())
                released = {
                    "leaseDurationSeconds": 1,
                    "acquireTime": wall,
                    "renewTime": wall,
                    "leaseTransitions": int(spec.get("leaseTransitions") or 0),
                }
                updated = await self.client.update(LEASES, {**lease, "spec": released})
                self._observe(updated.get("spec") or {}, self._clock.now())
                log.info("%s: released lease %s", config.identity, self._lease_ref())
        except (APIError, TransportError, TimeoutError) as e:
            log.warning("%s: could not release lease %s: %s", config.identity, self._lease_ref(), e)

    def _record(self, acquire_time: str, renew_time: str, transitions: int) -> dict[str, Any]:
        return {
            "holderIdentity": self.config.identity,
            "leaseDurationSeconds": self.config.lease_duration_seconds,
            "acquireTime": acquire_time,
            "renewTime": renew_time,
            "leaseTransitions": transitions,
        }

    def _observe(self, spec: dict[str, Any], now: float) -> None:
        previous = self.leader
        self._observed, self._observed_at = spec, now
        if self.leader != previous and self.leader and self._on_new_leader is not None:
            try:
                self._on_new_leader(self.leader)
            except Exception:
                log.exception("on_new_leader callback failed")

    def _lease_ref(self) -> str:
        return f"{self.config.namespace}/{self.config.name}"
