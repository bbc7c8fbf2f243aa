"""client-go JSONPath semantics for CRD printer columns."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.apiserver.tables.jsonpath import JSONPathError, compile_path

DOC: dict[str, Any] = {
    "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}},
    "spec": {
        "replicas": 3,
        "ratio": 1.5,
        "paused": False,
        "nothing": None,
        "items": ["a", "b", "c", "d"],
    },
    "status": {
        "conditions": [
            {"type": "Progressing", "status": "True", "observed": 1},
            {"type": "Ready", "status": "False", "observed": 2},
            {"type": "Ready", "status": "True", "observed": 3},
        ],
    },
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".spec.replicas", [3]),
        (".spec.missing", []),
        (".missing.deeper", []),
        (".spec.nothing", [None]),
        (".spec.nothing.deeper", []),
        (".spec.replicas.deeper", []),
        (".metadata.labels.app\\.kubernetes\\.io/name", ["web"]),
        (".metadata['name']", ["web"]),
        (".spec.items[0]", ["a"]),
        (".spec.items[-1]", ["d"]),
        (".spec.items[1:3]", ["b", "c"]),
        (".spec.items[1:]", ["b", "c", "d"]),
        (".spec.items[:2]", ["a", "b"]),
        (".spec.items[::2]", ["a", "c"]),
        (".spec.items[*]", ["a", "b", "c", "d"]),
        (".spec.items[0,2]", ["a", "c"]),
        (".spec.items[2:2]", []),
        (".status.conditions[*].type", ["Progressing", "Ready", "Ready"]),
        ('.status.conditions[?(@.type=="Ready")].status', ["False", "True"]),
        (".status.conditions[?(@.type == 'Ready')].observed", [2, 3]),
        (".status.conditions[?(@.type!='Ready')].type", ["Progressing"]),
        (".status.conditions[?(@.observed>1)].observed", [2, 3]),
        (".status.conditions[?(@.observed<=1)].type", ["Progressing"]),
        (".status.conditions[?(@.observed>=3)].status", ["True"]),
        (".status.conditions[?(@.observed<2)].type", ["Progressing"]),
        (".status.conditions[?(@.observed)].observed", [1, 2, 3]),
        (".status.conditions[?(@.missing)].type", []),
        (".status.conditions[?(@.missing=='x')].type", []),
        ("..status", [DOC["status"], "True", "False", "True"]),
        (".spec.*", [3, 1.5, False, None, ["a", "b", "c", "d"]]),
        ("$.spec.replicas", [3]),
    ],
)
def test_find(path: str, expected: list[Any]) -> None:
    assert compile_path(path).find(DOC) == expected


@pytest.mark.parametrize(
    "path",
    [
        ".spec.items[9]",
        ".spec.replicas[0]",
        ".spec.items[2:1]",
        ".spec.items[::0]",
        ".spec[?(@.x)]",
        ".status.conditions[?(@.observed=='1')].type",
        ".status.conditions[?(@.observed==1.0)].type",
        ".status.conditions[?(@.type<true)].type",
    ],
)
def test_evaluation_errors(path: str) -> None:
    with pytest.raises(JSONPathError):
        compile_path(path).find(DOC)


@pytest.mark.parametrize(
    "path",
    [
        ".spec.items[",
        ".spec.items[x]",
        ".a[?(@.b==1",
        ".a[?(@.b==1)",
        ".a....",
        ".a %",
        '.a["b"]',
        ".a[?(@.b=~1)]",
    ],
)
def test_parse_errors(path: str) -> None:
    with pytest.raises(JSONPathError):
        compile_path(path)


def test_comparing_null_fails_but_a_missing_field_is_skipped() -> None:
    with pytest.raises(JSONPathError):
        compile_path(".items[?(@.v=='x')].v").find({"items": [{"v": None}, {"v": "x"}]})
    assert compile_path(".items[?(@.v=='x')].v").find({"items": [{}, {"v": "x"}]}) == ["x"]
