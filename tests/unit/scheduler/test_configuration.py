"""KubeSchedulerConfiguration parsing and profile expansion."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.scheduler.configuration import (
    API_VERSION,
    KIND,
    ConfigurationError,
    load_configuration,
)
from kybernetes.scheduler.plugins import in_tree_registry
from kybernetes.scheduler.plugins.noderesources import NodeResourcesFit
from kybernetes.scheduler.profile import Profile, build_profile


def profile(**fields: Any) -> Profile:
    config = load_configuration({"apiVersion": API_VERSION, "kind": KIND, "profiles": [fields]})
    return build_profile(config.profiles[0], in_tree_registry())


def test_default_profile() -> None:
    config = load_configuration(None)
    assert [p.scheduler_name for p in config.profiles] == ["default-scheduler"]
    built = build_profile(config.profiles[0], in_tree_registry())
    assert [p.name for p in built.filter] == [
        "NodeUnschedulable",
        "NodeName",
        "TaintToleration",
        "NodeAffinity",
        "NodePorts",
        "NodeResourcesFit",
        "PodTopologySpread",
        "InterPodAffinity",
    ]
    assert [(s.plugin.name, s.weight) for s in built.score] == [
        ("TaintToleration", 3),
        ("NodeAffinity", 2),
        ("NodeResourcesFit", 1),
        ("PodTopologySpread", 2),
        ("InterPodAffinity", 2),
        ("NodeResourcesBalancedAllocation", 1),
        ("ImageLocality", 1),
    ]
    assert [p.name for p in built.post_filter] == ["DefaultPreemption"]
    assert built.queue_sort.name == "PrioritySort"
    assert [p.name for p in built.pre_enqueue] == ["SchedulingGates"]


def test_disable_reweight_and_configure() -> None:
    built = profile(
        schedulerName="packer",
        plugins={
            "multiPoint": {"disabled": [{"name": "ImageLocality"}]},
            "score": {
                "enabled": [{"name": "NodeResourcesFit", "weight": 5}],
                "disabled": [{"name": "TaintToleration"}],
            },
        },
        pluginConfig=[
            {"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "MostAllocated"}}}
        ],
    )
    assert built.scheduler_name == "packer"
    assert [(s.plugin.name, s.weight) for s in built.score] == [
        ("NodeResourcesFit", 5),
        ("NodeAffinity", 2),
        ("PodTopologySpread", 2),
        ("InterPodAffinity", 2),
        ("NodeResourcesBalancedAllocation", 1),
    ]
    fit = built.score[0].plugin
    assert isinstance(fit, NodeResourcesFit) and fit.strategy == "MostAllocated"
    assert "TaintToleration" in [p.name for p in built.filter]


def test_star_disables_every_default_of_a_point() -> None:
    built = profile(plugins={"filter": {"disabled": [{"name": "*"}]}})
    assert built.filter == ()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"apiVersion": "v1", "kind": KIND}, "expected apiVersion"),
        ({"apiVersion": API_VERSION, "kind": KIND, "percentageOfNodesToScore": 101}, "range"),
        (
            {"apiVersion": API_VERSION, "kind": KIND, "profiles": [{}, {}]},
            "duplicate schedulerName",
        ),
    ],
)
def test_invalid_configuration(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_configuration(config)


def test_invalid_profiles() -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        profile(plugins={"filter": {"enabled": [{"name": "Nope"}]}})
    with pytest.raises(ConfigurationError, match="does not extend"):
        profile(plugins={"filter": {"enabled": [{"name": "ImageLocality"}]}})
    with pytest.raises(ConfigurationError, match="invalid args"):
        profile(
            pluginConfig=[{"name": "NodeResourcesFit", "args": {"scoringStrategy": {"type": "X"}}}]
        )
    with pytest.raises(ConfigurationError, match="queue sort"):
        profile(plugins={"queueSort": {"disabled": [{"name": "*"}]}})


def test_leader_election_section() -> None:
    config = load_configuration(
        {
            "apiVersion": "kubescheduler.config.k8s.io/v1",
            "kind": "KubeSchedulerConfiguration",
            "leaderElection": {"leaseDuration": "4s", "renewDeadline": "3s", "retryPeriod": "1s"},
        }
    )
    election = config.leader_election
    assert (election.lease_duration, election.renew_deadline, election.retry_period) == (4, 3, 1)
    assert (election.resource_namespace, election.resource_name) == (
        "kube-system",
        "kube-scheduler",
    )
    with pytest.raises(ConfigurationError, match=r"leaderElection\.leaseDuration"):
        load_configuration(
            {
                "apiVersion": "kubescheduler.config.k8s.io/v1",
                "kind": "KubeSchedulerConfiguration",
                "leaderElection": {"leaseDuration": "1s"},
            }
        )
