"""KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1), parsed and defaulted.

`load_configuration(obj)` takes the decoded YAML/JSON object (None = all defaults) and
returns a `SchedulerConfiguration`: one `ProfileConfig` per profile (a single
"default-scheduler" profile when none is given) whose plugin sets are already merged
with Kubernetes' defaults as `mergePluginSet` does: per extension point, the default
enabled plugins minus the disabled ones ("*" disables them all), a custom entry with a
default plugin's name replacing it in place, the other custom entries appended.

A profile without its own percentageOfNodesToScore inherits the top-level one (0 =
Kubernetes' adaptive default). Invalid input raises `ConfigurationError` naming the
offending field. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from kybernetes.api.duration import parse_duration

API_VERSION: Final = "kubescheduler.config.k8s.io/v1"
KIND: Final = "KubeSchedulerConfiguration"
DEFAULT_SCHEDULER_NAME: Final = "default-scheduler"
EXTENSION_POINTS: Final = (
    "multiPoint",
    "preEnqueue",
    "queueSort",
    "preFilter",
    "filter",
    "postFilter",
    "preScore",
    "score",
    "reserve",
    "permit",
    "preBind",
    "bind",
    "postBind",
)


@dataclass(frozen=True, slots=True)
class PluginRef:
    name: str
    weight: int = 0


@dataclass(frozen=True, slots=True)
class PluginSet:
    enabled: tuple[PluginRef, ...] = ()
    disabled: tuple[str, ...] = ()


DEFAULT_MULTI_POINT: Final = (
    PluginRef("SchedulingGates"),
    PluginRef("PrioritySort"),
    PluginRef("NodeUnschedulable"),
    PluginRef("NodeName"),
    PluginRef("TaintToleration", 3),
    PluginRef("NodeAffinity", 2),
    PluginRef("NodePorts"),
    PluginRef("NodeResourcesFit", 1),
    PluginRef("VolumeRestrictions"),
    PluginRef("NodeVolumeLimits"),
    PluginRef("VolumeBinding"),
    PluginRef("VolumeZone"),
    PluginRef("PodTopologySpread", 2),
    PluginRef("InterPodAffinity", 2),
    PluginRef("DefaultPreemption"),
    PluginRef("NodeResourcesBalancedAllocation", 1),
    PluginRef("ImageLocality", 1),
    PluginRef("DefaultBinder"),
)
# Default plugins kybernetes does not implement yet; a profile silently leaves them out.
NOT_YET_IMPLEMENTED: Final = frozenset(
    {
        "VolumeRestrictions",
        "NodeVolumeLimits",
        "VolumeBinding",
        "VolumeZone",
        "DefaultBinder",
    }
)


class ConfigurationError(ValueError):
    """An invalid KubeSchedulerConfiguration; the message names the field."""


@dataclass(frozen=True, slots=True)
class ProfileConfig:
    scheduler_name: str
    plugins: Mapping[str, PluginSet]
    plugin_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    percentage_of_nodes_to_score: int | None = None  # None only before inheriting


@dataclass(frozen=True, slots=True)
class LeaderElection:
    """`leaderElection` (componentbaseconfig.LeaderElectionConfiguration), seconds."""

    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    resource_name: str = "kube-scheduler"
    resource_namespace: str = "kube-system"


@dataclass(frozen=True, slots=True)
class SchedulerConfiguration:
    profiles: tuple[ProfileConfig, ...]
    percentage_of_nodes_to_score: int = 0
    leader_election: LeaderElection = field(default_factory=LeaderElection)


def load_configuration(obj: Mapping[str, Any] | None) -> SchedulerConfiguration:
    """Parse, validate and default a KubeSchedulerConfiguration object."""
    obj = obj or {"apiVersion": API_VERSION, "kind": KIND}
    if obj.get("apiVersion") != API_VERSION or obj.get("kind") != KIND:
        raise ConfigurationError(f"expected apiVersion {API_VERSION} and kind {KIND}")
    percentage = _percentage(obj.get("percentageOfNodesToScore"), "percentageOfNodesToScore")
    raw_profiles = obj.get("profiles") or [{}]
    profiles = tuple(_profile(p, f"profiles[{i}]") for i, p in enumerate(raw_profiles))
    names = [p.scheduler_name for p in profiles]
    if len(set(names)) != len(names):
        raise ConfigurationError("profiles: duplicate schedulerName")
    profiles = tuple(
        replace(p, percentage_of_nodes_to_score=percentage or 0)
        if p.percentage_of_nodes_to_score is None
        else p
        for p in profiles
    )
    election = _leader_election(obj.get("leaderElection") or {})
    return SchedulerConfiguration(profiles, percentage or 0, election)


def _leader_election(raw: Mapping[str, Any]) -> LeaderElection:
    durations: dict[str, float] = {}
    for key, attr in (
        ("leaseDuration", "lease_duration"),
        ("renewDeadline", "renew_deadline"),
        ("retryPeriod", "retry_period"),
    ):
        if key in raw:
            try:
                durations[attr] = parse_duration(str(raw[key]))
            except ValueError as e:
                raise ConfigurationError(f"leaderElection.{key}: {e}") from None
    election = LeaderElection(
        leader_elect=bool(raw.get("leaderElect", True)),
        resource_name=raw.get("resourceName") or "kube-scheduler",
        resource_namespace=raw.get("resourceNamespace") or "kube-system",
        **durations,
    )
    if election.lease_duration <= election.renew_deadline:
        raise ConfigurationError("leaderElection.leaseDuration: must be greater than renewDeadline")
    if election.renew_deadline <= 1.2 * election.retry_period:
        raise ConfigurationError(
            "leaderElection.renewDeadline: must be greater than retryPeriod*JitterFactor"
        )
    return election


def _percentage(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ConfigurationError(f"{path}: not in valid range [0-100]")
    return value


def _profile(raw: Mapping[str, Any], path: str) -> ProfileConfig:
    name = raw.get("schedulerName") or DEFAULT_SCHEDULER_NAME
    custom = raw.get("plugins") or {}
    unknown = set(custom) - set(EXTENSION_POINTS)
    if unknown:
        raise ConfigurationError(f"{path}.plugins: unknown extension points {sorted(unknown)}")
    plugins = {
        point: merge_plugin_set(
            PluginSet(DEFAULT_MULTI_POINT if point == "multiPoint" else ()),
            _plugin_set(custom.get(point) or {}, f"{path}.plugins.{point}"),
        )
        for point in EXTENSION_POINTS
    }
    plugin_config: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(raw.get("pluginConfig") or ()):
        plugin = entry.get("name")
        if not plugin or plugin in plugin_config:
            raise ConfigurationError(f"{path}.pluginConfig[{i}].name: missing or duplicate")
        plugin_config[plugin] = entry.get("args") or {}
    percentage = _percentage(
        raw.get("percentageOfNodesToScore"), f"{path}.percentageOfNodesToScore"
    )
    return ProfileConfig(name, plugins, plugin_config, percentage)


def _plugin_set(raw: Mapping[str, Any], path: str) -> PluginSet:
    enabled = []
    for i, entry in enumerate(raw.get("enabled") or ()):
        if not entry.get("name"):
            raise ConfigurationError(f"{path}.enabled[{i}].name: Required value")
        weight = entry.get("weight") or 0
        if not isinstance(weight, int) or weight < 0:
            raise ConfigurationError(f"{path}.enabled[{i}].weight: must be a non-negative int")
        enabled.append(PluginRef(entry["name"], weight))
    disabled = tuple(entry.get("name") or "" for entry in raw.get("disabled") or ())
    return PluginSet(tuple(enabled), disabled)


def merge_plugin_set(default: PluginSet, custom: PluginSet) -> PluginSet:
    """Kubernetes' `mergePluginSet` (see the module docstring)."""
    disabled = set(custom.disabled)
    custom_index = {ref.name: i for i, ref in enumerate(custom.enabled)}
    replaced: set[int] = set()
    enabled: list[PluginRef] = []
    if "*" not in disabled:
        for ref in default.enabled:
            if ref.name in disabled:
                continue
            if ref.name in custom_index:
                replaced.add(custom_index[ref.name])
                ref = custom.enabled[custom_index[ref.name]]
            enabled.append(ref)
    enabled.extend(ref for i, ref in enumerate(custom.enabled) if i not in replaced)
    return PluginSet(tuple(enabled), custom.disabled)
