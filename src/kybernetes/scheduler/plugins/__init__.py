"""The in-tree plugins, one module each, and the registry that names them."""

from __future__ import annotations

from kybernetes.scheduler.framework import Registry
from kybernetes.scheduler.plugins.defaultpreemption import DefaultPreemption
from kybernetes.scheduler.plugins.imagelocality import ImageLocality
from kybernetes.scheduler.plugins.interpodaffinity import InterPodAffinity
from kybernetes.scheduler.plugins.nodeaffinity import NodeAffinity
from kybernetes.scheduler.plugins.nodename import NodeName
from kybernetes.scheduler.plugins.nodeports import NodePorts
from kybernetes.scheduler.plugins.noderesources import (
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
)
from kybernetes.scheduler.plugins.nodeunschedulable import NodeUnschedulable
from kybernetes.scheduler.plugins.podtopologyspread import PodTopologySpread
from kybernetes.scheduler.plugins.queue import PrioritySort, SchedulingGates
from kybernetes.scheduler.plugins.tainttoleration import TaintToleration


def in_tree_registry() -> Registry:
    """A fresh registry of every in-tree plugin, keyed by its Kubernetes name."""
    registry = Registry()
    for plugin in (
        SchedulingGates,
        PrioritySort,
        NodeUnschedulable,
        NodeName,
        TaintToleration,
        NodeAffinity,
        NodePorts,
        NodeResourcesFit,
        NodeResourcesBalancedAllocation,
        ImageLocality,
        PodTopologySpread,
        InterPodAffinity,
        DefaultPreemption,
    ):
        registry.register(plugin.name, plugin)
    return registry
