"""Pods get the DefaultTolerationSeconds admission plugin's tolerations on create."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.resources import ResourceTable
from kybernetes.apiserver.strategy import strategy_for

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


def created(tolerations: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    info = ResourceTable.builtin().get("", "v1", "pods")
    assert info is not None
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    strategy_for(info).prepare_for_create(pod)
    result: list[dict[str, Any]] = pod["spec"]["tolerations"]
    return result


def default(key: str) -> dict[str, Any]:
    return {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}


def test_a_pod_without_tolerations_gets_both_defaults() -> None:
    assert created(None) == [default(NOT_READY), default(UNREACHABLE)]


@pytest.mark.parametrize(
    ("own", "added"),
    [
        ({"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5},
         [NOT_READY]),
        ({"key": NOT_READY, "operator": "Exists"}, [UNREACHABLE]),  # any effect
        ({"operator": "Exists"}, []),  # tolerates everything
        ({"operator": "Exists", "effect": "NoSchedule"}, [NOT_READY, UNREACHABLE]),
    ],
)  # fmt: skip
def test_existing_tolerations_are_kept_and_only_missing_defaults_added(
    own: dict[str, Any], added: list[str]
) -> None:
    assert created([own]) == [own, *(default(key) for key in added)]
