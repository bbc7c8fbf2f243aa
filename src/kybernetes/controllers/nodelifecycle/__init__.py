"""The node lifecycle controller: `NodeLifecycleController(client, factory, recorder,
clock=..., grace_period=40, startup_grace_period=60)` marks nodes that stopped
heartbeating Unknown, taints them and evicts their pods by their tolerations."""

from __future__ import annotations

from .controller import NODE_LEASE_NAMESPACE, NodeLifecycleController

__all__ = ["NODE_LEASE_NAMESPACE", "NodeLifecycleController"]
