"""The node IPAM controller: `NodeIpamController(client, factory, recorder,
clock=..., cluster_cidr="10.42.0.0/16", node_cidr_mask_size=24)` gives each node a pod
CIDR; `CIDRSet` is its range allocator."""

from __future__ import annotations

from .cidrset import CIDRExhausted, CIDRSet
from .controller import NodeIpamController

__all__ = ["CIDRExhausted", "CIDRSet", "NodeIpamController"]
