"""YAML request bodies decode as sigs.k8s.io/yaml decodes them, and no body can exhaust
the server's stack or memory; objects nest at most `MAX_NESTING` deep."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.apiserver.nesting import MAX_NESTING, nesting_error
from kybernetes.apiserver.status import StatusError
from kybernetes.apiserver.yamlbody import MAX_DEPTH, decode_yaml

PREFIX = "error decoding YAML: error converting YAML to JSON: "
LAUGHS = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n".encode()
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b"a: 2001-12-14\nb: yes\n1: one\n", {"a": "2001-12-14", "b": True, "1": "one"}),
        (b"data: !!binary aGVsbG8=\n", {"data": "hello"}),
        (b"labels: &l {a: b}\nx: [*l, *l]\n", {"labels": {"a": "b"}, "x": [{"a": "b"}] * 2}),
        (b"--- {a: 1}\n--- [\n", {"a": 1}),
        (b"", None),
    ],
)
def test_decodes_as_go_yaml(body: bytes, value: Any) -> None:
    assert decode_yaml(body) == value


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"- " * 200_000, f"yaml: exceeded max depth of {MAX_DEPTH}"),
        (b"[" * 5_000 + b"]" * 5_000, "yaml: exceeded max depth"),
        (b"metadata: &m {name: x, labels: *m}\n", "yaml: anchor 'm' value contains itself"),
        (LAUGHS, "yaml: document contains excessive aliasing"),
        (b"a: .nan\n", "json: unsupported value: NaN"),
        (b"a: *nope\n", "yaml: found undefined alias"),
    ],
)
def test_bad_bodies_are_400(body: bytes, message: str) -> None:
    with pytest.raises(StatusError) as e:
        decode_yaml(body)
    assert (e.value.code, e.value.message) == (400, PREFIX + message)


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": [value]} if depth % 2 else [value]
    return value


def test_nesting_limit() -> None:
    assert nesting_error(nested(MAX_NESTING)) is None
    assert nesting_error(nested(MAX_NESTING + 1)) == "json: exceeded max depth"
    assert nesting_error(nested(100_000)) == "json: exceeded max depth"
    assert nesting_error("scalar") is None
