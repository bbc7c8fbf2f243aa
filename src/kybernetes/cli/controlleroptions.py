"""The settings of the controllers that take any (kube-controller-manager's flags of
the same names and defaults), and the `kyb controller-manager` flags that set them.

`add_controller_flags(parser)` adds the flags; `controller_options(args)` reads them
back into a `ControllerOptions`. Durations are Go durations (`40s`, `1m30s`, `500ms`)
or plain seconds.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from .flagtypes import duration


@dataclass(frozen=True)
class ControllerOptions:
    """Settings of the node lifecycle, node IPAM, EndpointSlice, pod GC and resource
    quota controllers."""

    node_monitor_grace_period: float = 40.0
    node_startup_grace_period: float = 60.0
    node_eviction_rate: float = 0.1
    secondary_node_eviction_rate: float = 0.01
    unhealthy_zone_threshold: float = 0.55
    large_cluster_size_threshold: int = 50
    cluster_cidr: str = "10.42.0.0/16"
    node_cidr_mask_size: int = 24
    terminated_pod_gc_threshold: int = 12500
    resource_quota_sync_period: float = 300.0
    max_endpoints_per_slice: int = 100


DEFAULT_OPTIONS = ControllerOptions()


def _cidr(text: str) -> str:
    try:
        return str(ipaddress.IPv4Network(text, strict=False))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"invalid IPv4 CIDR {text!r}: {e}") from None


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid non-negative number {text!r}")
    return value


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"invalid non-negative integer {text!r}")
    return int(text)


_FLAGS: list[tuple[str, Callable[[str], object], str]] = [
    ("node_monitor_grace_period", duration,
     "how long a node may go without heartbeat before it is marked Unknown (40s)"),
    ("node_startup_grace_period", duration,
     "the same for a node that never posted its status (1m)"),
    ("node_eviction_rate", _rate,
     "nodes per second given NoExecute taints in a healthy zone (0.1)"),
    ("secondary_node_eviction_rate", _rate,
     "the same in a partially disrupted zone of more than the large cluster size (0.01)"),
    ("unhealthy_zone_threshold", _rate,
     "the share of not-ready nodes (more than 2) that disrupts a zone (0.55)"),
    ("large_cluster_size_threshold", _count,
     "zones larger than this keep the secondary rate when disrupted (50)"),
    ("cluster_cidr", _cidr, "the pods' IPv4 range, cut into node pod CIDRs (10.42.0.0/16)"),
    ("node_cidr_mask_size", _count, "the prefix length of each node's pod CIDR (24)"),
    ("terminated_pod_gc_threshold", _count,
     "terminated pods kept before the oldest are deleted; 0 keeps all (12500)"),
    ("resource_quota_sync_period", duration,
     "how often every quota's usage is recomputed (5m)"),
    ("max_endpoints_per_slice", _count, "endpoints per EndpointSlice at most (100)"),
]  # fmt: skip


def add_controller_flags(parser: argparse.ArgumentParser) -> None:
    """Adds `--node-monitor-grace-period` and the other flags of `ControllerOptions`."""
    for field, parse, help in _FLAGS:
        flag = "--" + field.replace("_", "-")
        parser.add_argument(flag, type=parse, default=getattr(DEFAULT_OPTIONS, field), help=help)


def controller_options(args: argparse.Namespace) -> ControllerOptions:
    """The options the flags of `add_controller_flags` gave."""
    return ControllerOptions(**{field: getattr(args, field) for field, _, _ in _FLAGS})
