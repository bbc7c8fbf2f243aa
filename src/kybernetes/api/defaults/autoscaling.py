"""Defaults of HorizontalPodAutoscalers: autoscaling/v1 and autoscaling/v2 (1.32).

Both versions default `minReplicas` to 1. In v2, no metrics means 80% average CPU
utilization, and a `behavior`, once present, is completed rule by rule: scale up
without stabilization by at most 4 pods or 100% per 15 s (whichever is more), scale
down by at most 100% per 15 s; the scale-down stabilization window stays unset (the
controller's `--horizontal-pod-autoscaler-downscale-stabilization` applies).

Invariants: in place, fills only unset fields, idempotent.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from kybernetes.api.defaults._fields import (
    Defaulter,
    JSONObject,
    child,
    is_zero,
    set_if_absent,
    struct,
)

DEFAULT_CPU_UTILIZATION: Final = 80
_SCALE_UP: Final[dict[str, Any]] = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
_SCALE_DOWN: Final[dict[str, Any]] = {
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}


def _hpa_v1(hpa: JSONObject) -> None:
    if (spec := struct(hpa, "spec")) is not None:
        set_if_absent(spec, "minReplicas", 1)


def _hpa_v2(hpa: JSONObject) -> None:
    spec = struct(hpa, "spec")
    if spec is None:
        return
    set_if_absent(spec, "minReplicas", 1)
    if is_zero(spec.get("metrics")):
        target = {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
    if (behavior := child(spec, "behavior")) is not None:
        for key, defaults in (("scaleUp", _SCALE_UP), ("scaleDown", _SCALE_DOWN)):
            rules = struct(behavior, key)
            if rules is None:
                continue
            for field, value in defaults.items():
                set_if_absent(rules, field, copy.deepcopy(value))


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    ("autoscaling", "v1", "HorizontalPodAutoscaler"): _hpa_v1,
    ("autoscaling", "v2", "HorizontalPodAutoscaler"): _hpa_v2,
}
