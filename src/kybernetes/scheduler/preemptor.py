"""Carries out a preemption decided by DefaultPreemption (kube-scheduler's
`prepareCandidate`): the preemptor's `status.nominatedNodeName` is set, then every
victim gets the `DisruptionTarget` condition (reason `PreemptionByScheduler`), is
deleted with its own grace period and gets a `Preempted` event ("Preempted by pod UID
on node NODE"). API errors are logged, not raised: a victim already gone is fine, and
the preemptor is retried through the queue anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kybernetes.client import APIClient, APIError, Clock, EventRecorder, TransportError
from kybernetes.client.resource import PODS
from kybernetes.scheduler.podinfo import PodInfo

log = logging.getLogger(__name__)


def involved(pod: PodInfo) -> dict[str, Any]:
    """The pod as an event's involvedObject."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod.pod.get("metadata") or {}}


async def preempt(
    client: APIClient,
    recorder: EventRecorder,
    clock: Clock,
    *,
    scheduler_name: str,
    preemptor: PodInfo,
    node: str,
    victims: Sequence[PodInfo],
) -> None:
    """See the module docstring."""
    try:
        await client.patch(
            PODS,
            preemptor.name,
            {"status": {"nominatedNodeName": node}},
            namespace=preemptor.namespace,
            subresource="status",
        )
    except (APIError, TransportError) as e:
        log.warning(
            "pod %s/%s: could not nominate %s: %s", preemptor.namespace, preemptor.name, node, e
        )
    now = clock.wall().strftime("%Y-%m-%dT%H:%M:%SZ")
    condition = {
        "type": "DisruptionTarget",
        "status": "True",
        "reason": "PreemptionByScheduler",
        "message": f"{scheduler_name}: preempting to accommodate a higher priority pod",
        "lastTransitionTime": now,
    }
    for victim in victims:
        try:
            await client.patch(  # strategic: merged into the conditions by type
                PODS,
                victim.name,
                {"status": {"conditions": [condition]}},
                namespace=victim.namespace,
                subresource="status",
                patch_type="strategic",
            )
            await client.delete(PODS, victim.name, namespace=victim.namespace)
        except (APIError, TransportError) as e:
            log.warning("could not preempt pod %s/%s: %s", victim.namespace, victim.name, e)
            continue
        message = f"Preempted by pod {preemptor.key} on node {node}"
        recorder.event(involved(victim), "Normal", "Preempted", message)
