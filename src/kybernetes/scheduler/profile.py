"""A scheduling profile: the plugin instances of each extension point, in order.

`build_profile(config, registry)` instantiates each named plugin once (with its
`pluginConfig` args) and expands multiPoint as Kubernetes' `expandMultiPointPlugins`
does: a multiPoint plugin joins every extension point whose protocol it implements,
unless that point disables it (or "*"); a plugin also enabled explicitly at a point
keeps its explicit position and settings. Order per point: explicit overrides of
multiPoint plugins, then multiPoint plugins, then the other explicit plugins. Score
weights default to 1. Plugins in `NOT_YET_IMPLEMENTED` are left out; any other unknown
name, a plugin enabled at a point it does not implement, a double registration, or
anything but exactly one QueueSort plugin raises `ConfigurationError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, cast

from kybernetes.scheduler.configuration import (
    NOT_YET_IMPLEMENTED,
    ConfigurationError,
    PluginRef,
    ProfileConfig,
)
from kybernetes.scheduler.framework import (
    BindPlugin,
    FilterPlugin,
    NormalizeScorePlugin,
    PermitPlugin,
    Plugin,
    PostBindPlugin,
    PostFilterPlugin,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreScorePlugin,
    ProfileAwarePlugin,
    QueueSortPlugin,
    Registry,
    ReservePlugin,
    ScorePlugin,
)

_PROTOCOLS: Final[dict[str, type[Any]]] = {
    "preEnqueue": PreEnqueuePlugin,
    "queueSort": QueueSortPlugin,
    "preFilter": PreFilterPlugin,
    "filter": FilterPlugin,
    "postFilter": PostFilterPlugin,
    "preScore": PreScorePlugin,
    "score": ScorePlugin,
    "reserve": ReservePlugin,
    "permit": PermitPlugin,
    "preBind": PreBindPlugin,
    "bind": BindPlugin,
    "postBind": PostBindPlugin,
}


@dataclass(frozen=True, slots=True)
class WeightedScorer:
    plugin: ScorePlugin
    weight: int
    normalizer: NormalizeScorePlugin | None


@dataclass(frozen=True, slots=True)
class Profile:
    scheduler_name: str
    percentage_of_nodes_to_score: int | None
    pre_enqueue: tuple[PreEnqueuePlugin, ...]
    queue_sort: QueueSortPlugin
    pre_filter: tuple[PreFilterPlugin, ...]
    filter: tuple[FilterPlugin, ...]
    post_filter: tuple[PostFilterPlugin, ...]
    pre_score: tuple[PreScorePlugin, ...]
    score: tuple[WeightedScorer, ...]
    reserve: tuple[ReservePlugin, ...]
    permit: tuple[PermitPlugin, ...]
    pre_bind: tuple[PreBindPlugin, ...]
    bind: tuple[BindPlugin, ...]
    post_bind: tuple[PostBindPlugin, ...]


def build_profile(config: ProfileConfig, registry: Registry) -> Profile:
    """The runtime profile of one configured profile (see the module docstring)."""
    instances: dict[str, Plugin] = {}

    def instance(name: str) -> Plugin | None:
        if name not in registry:
            if name in NOT_YET_IMPLEMENTED:
                return None
            raise ConfigurationError(f"{config.scheduler_name}: plugin {name!r} does not exist")
        if name not in instances:
            try:
                instances[name] = registry.new(name, config.plugin_config.get(name))
            except (ValueError, KeyError, TypeError) as error:
                raise ConfigurationError(f"{name}: invalid args: {error}") from error
        return instances[name]

    points = {point: _expand(config, point, instance) for point in _PROTOCOLS}
    if len(points["queueSort"]) != 1:
        raise ConfigurationError(f"{config.scheduler_name}: one queue sort plugin required")
    scorers = tuple(
        WeightedScorer(
            cast(ScorePlugin, plugin),
            ref.weight or 1,
            plugin if isinstance(plugin, NormalizeScorePlugin) else None,
        )
        for ref, plugin in points["score"]
    )

    def plugins(point: str) -> tuple[Any, ...]:
        return tuple(plugin for _, plugin in points[point])

    profile = Profile(
        scheduler_name=config.scheduler_name,
        percentage_of_nodes_to_score=config.percentage_of_nodes_to_score,
        pre_enqueue=plugins("preEnqueue"),
        queue_sort=plugins("queueSort")[0],
        pre_filter=plugins("preFilter"),
        filter=plugins("filter"),
        post_filter=plugins("postFilter"),
        pre_score=plugins("preScore"),
        score=scorers,
        reserve=plugins("reserve"),
        permit=plugins("permit"),
        pre_bind=plugins("preBind"),
        bind=plugins("bind"),
        post_bind=plugins("postBind"),
    )
    for plugin in instances.values():
        if isinstance(plugin, ProfileAwarePlugin):
            plugin.attach(profile)
    return profile


def _expand(config: ProfileConfig, point: str, instance: Any) -> list[tuple[PluginRef, Plugin]]:
    protocol = _PROTOCOLS[point]
    explicit: list[tuple[PluginRef, Plugin]] = []
    for ref in config.plugins[point].enabled:
        plugin = instance(ref.name)
        if plugin is None:
            continue
        if not isinstance(plugin, protocol):
            raise ConfigurationError(f"plugin {ref.name!r} does not extend {point} plugin")
        explicit.append((ref, plugin))
    explicit_names = {ref.name for ref, _ in explicit}
    disabled = set(config.plugins[point].disabled)
    overrides: set[str] = set()
    multi: list[tuple[PluginRef, Plugin]] = []
    if "*" not in disabled:
        for ref in config.plugins["multiPoint"].enabled:
            plugin = instance(ref.name)
            if plugin is None or not isinstance(plugin, protocol) or ref.name in disabled:
                continue
            if ref.name in explicit_names:
                overrides.add(ref.name)
            elif any(ref.name == seen.name for seen, _ in multi):
                raise ConfigurationError(f"plugin {ref.name!r} already registered as multiPoint")
            else:
                multi.append((ref, plugin))
    first = [entry for entry in explicit if entry[0].name in overrides]
    rest = [entry for entry in explicit if entry[0].name not in overrides]
    return first + multi + rest
