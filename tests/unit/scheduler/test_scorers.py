"""NodeAffinity and ImageLocality."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.scheduler.framework import Code
from kybernetes.scheduler.plugins.imagelocality import MB, ImageLocality
from kybernetes.scheduler.plugins.nodeaffinity import NodeAffinity

from .helpers import all_slots, names, node, pod, snapshot_of, state

AFFINITY_REASON = "node(s) didn't match Pod's node affinity/selector"


def labelled() -> Any:
    return snapshot_of(
        node("a", labels={"zone": "us-1", "cores": "8", "gpu": ""}),
        node("b", labels={"zone": "us-2", "cores": "32"}),
        node("c", labels={"cores": "x"}),
    )


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
            }
        }
    }


def expr(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"matchExpressions": [{"key": key, "operator": operator, "values": list(values)}]}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        (expr("zone", "In", "us-1", "us-3"), ["a"]),
        (expr("zone", "NotIn", "us-1"), ["b", "c"]),
        (expr("gpu", "Exists"), ["a"]),
        (expr("gpu", "DoesNotExist"), ["b", "c"]),
        (expr("cores", "Gt", "10"), ["b"]),
        (expr("cores", "Lt", "10"), ["a"]),
        (expr("cores", "Gt", "ten"), []),
        (expr("zone", "In"), []),
        ({}, []),
        ({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["c"]}]}, ["c"]),
        (
            {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["c"]}]},
            ["a", "b"],
        ),
    ],
)
def test_required_terms(term: dict[str, Any], expected: list[str]) -> None:
    snapshot = labelled()
    result = NodeAffinity({}).filter(state(), pod(spec=required(term)), snapshot)
    assert names(snapshot, result.feasible) == expected
    assert names(snapshot, result.rejections[0].nodes) == sorted({"a", "b", "c"} - set(expected))
    assert result.rejections[0].reason == AFFINITY_REASON
    assert result.rejections[0].code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE


def test_terms_are_ored_and_node_selector_anded() -> None:
    snapshot = labelled()
    spec = required(expr("zone", "In", "us-1"), expr("cores", "In", "x"))
    assert names(snapshot, NodeAffinity({}).filter(state(), pod(spec=spec), snapshot).feasible) == [
        "a",
        "c",
    ]
    spec["nodeSelector"] = {"cores": "x"}
    assert names(snapshot, NodeAffinity({}).filter(state(), pod(spec=spec), snapshot).feasible) == [
        "c"
    ]
    assert NodeAffinity({}).pre_filter(state(), pod(), snapshot).code is Code.SKIP


def test_preferred_terms_score() -> None:
    snapshot = labelled()
    spec = {
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 2, "preference": expr("cores", "Exists")},
                    {"weight": 4, "preference": expr("zone", "In", "us-2")},
                    {"weight": 0, "preference": expr("gpu", "Exists")},
                    {"weight": 9, "preference": {}},
                ]
            }
        }
    }
    plugin, p = NodeAffinity({}), pod(spec=spec)
    raw = plugin.score(state(), p, snapshot, all_slots(snapshot))
    assert list(raw) == [2, 6, 2]
    assert list(plugin.normalize_score(state(), p, raw)) == [33, 100, 33]


def test_image_locality() -> None:
    snapshot = snapshot_of(
        node("big", images=[(["app:1"], 600 * MB), (["side:latest"], 300 * MB)]),
        node("small", images=[(["side:latest"], 300 * MB)]),
        node("none"),
    )
    p = pod(spec={"containers": [{"name": "a", "image": "app:1"}, {"name": "b", "image": "side"}]})
    got = ImageLocality({}).score(state(), p, snapshot, all_slots(snapshot))
    # big: 600/3 + 300*2/3 = 400 MiB; small: 200 MiB; thresholds 23 MiB and 2000 MiB
    assert list(got) == [100 * (400 - 23) // (2000 - 23), 100 * (200 - 23) // (2000 - 23), 0]


def test_added_affinity_is_enforced_first_and_adds_preferences() -> None:
    snapshot = labelled()
    plugin = NodeAffinity(
        {
            "addedAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [expr("gpu", "DoesNotExist")]
                },
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 3, "preference": expr("zone", "In", "us-1")}
                ],
            }
        }
    )
    p = pod(spec={"nodeSelector": {"zone": "us-2"}})
    result = plugin.filter(state(), p, snapshot)
    assert names(snapshot, result.feasible) == ["b"]
    assert {r.reason: names(snapshot, r.nodes) for r in result.rejections} == {
        "node(s) didn't match scheduler-enforced node affinity": ["a"],
        AFFINITY_REASON: ["c"],
    }
    assert plugin.pre_filter(state(), pod(), snapshot).code is Code.SUCCESS
    assert list(plugin.score(state(), pod(), snapshot, all_slots(snapshot))) == [3, 0, 0]
