"""YAML request bodies, decoded as kube-apiserver decodes them (sigs.k8s.io/yaml over
go-yaml v2): `decode_yaml(body)` is the JSON value of the body's first document.

As go-yaml v2 reads YAML into `interface{}`: YAML 1.1 scalars, timestamps kept as
strings, keys of any type turned into strings, `!!binary` kept as its text; NaN and
infinities cannot become JSON. Failures are 400 BadRequest "error decoding YAML:
error converting YAML to JSON: yaml: ..." with go-yaml's (libyaml's) wording.

Invariants: the document is checked before it is built, so no body can exhaust the
stack or the memory: nesting is at most `MAX_DEPTH` deep (libyaml's composer
recurses in C), an alias may not refer to the node that contains it, and aliases may
not multiply the document (go-yaml's "excessive aliasing" rule). A document nested
deeper than Python can walk (a few hundred levels) is 400 "exceeded max depth" too.
Pure functions; safe in threads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import yaml

from .status import bad_request

MAX_DEPTH: Final = 10000
_TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"
_PREFIX: Final = "error decoding YAML: error converting YAML to JSON: "
# go-yaml v2's bounds on alias expansion (decode.go).
_ALIAS_RATIO_LOW: Final = 400_000
_ALIAS_RATIO_HIGH: Final = 4_000_000


def _key(key: Any) -> str:
    """A YAML mapping key as sigs.k8s.io/yaml writes it into JSON."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return _go_float(key)
    return "null" if key is None else str(key)


def _go_float(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return str(int(number)) if number.is_integer() else repr(number)


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """YAML as go-yaml v2 reads it into `interface{}`: timestamps stay strings, keys of
    any type are distinct (and become strings)."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        self.flatten_mapping(node)
        return {
            _key(self.construct_object(key, deep=deep)): self.construct_object(value, deep=deep)
            for key, value in node.value
        }


_Loader.add_constructor(_TIMESTAMP, lambda loader, node: loader.construct_scalar(node))


def _jsonable(value: Any) -> Any:
    """A decoded YAML value as JSON (sigs.k8s.io/yaml's conversion)."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"json: unsupported value: {_go_float(value)}")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _yaml_message(error: yaml.YAMLError) -> str:
    """go-yaml's message for a parse error: `yaml: line 3: did not find expected key`."""
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem_mark is None:
        return f"yaml: {error}"
    line = error.problem_mark.line
    if line and isinstance(error, yaml.scanner.ScannerError):
        line += 1
    elif not line and error.context_mark is not None:
        line = error.context_mark.line
    where = f"line {line}: " if line else ""
    return f"yaml: {where}{error.problem or 'unknown problem parsing YAML content'}"


@dataclass(slots=True)
class _Node:
    """An open collection while the document is checked: its anchor and how many
    nodes it decodes to (`total`), `aliased` of them through aliases."""

    anchor: str | None
    total: int = 1
    aliased: int = 0


class _LimitError(yaml.YAMLError):
    pass


def _check_document(body: bytes) -> None:
    """Raises `_LimitError` if the first document nests deeper than `MAX_DEPTH`, has
    an alias inside its own anchor, or aliases too much; leaves syntax errors to the
    loader. Reads parse events only: nothing is built."""
    open_nodes: list[_Node] = [_Node(None)]
    anchors: dict[str, _Node] = {}
    for event in yaml.parse(body, Loader=_Loader):
        if isinstance(event, yaml.DocumentEndEvent):
            break
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_nodes) > MAX_DEPTH:
                raise _LimitError(f"exceeded max depth of {MAX_DEPTH}")
            open_nodes.append(_Node(event.anchor))
        elif isinstance(event, yaml.CollectionEndEvent):
            node = open_nodes.pop()
            _add(open_nodes[-1], node.total, node.aliased)
            if node.anchor is not None:
                anchors[node.anchor] = node
        elif isinstance(event, yaml.ScalarEvent):
            _add(open_nodes[-1], 1, 0)
            if event.anchor is not None:
                anchors[event.anchor] = _Node(event.anchor)
        elif isinstance(event, yaml.AliasEvent):
            if any(node.anchor == event.anchor for node in open_nodes):
                raise _LimitError(f"anchor '{event.anchor}' value contains itself")
            target = anchors.get(event.anchor or "")
            if target is not None:
                _add(open_nodes[-1], 1 + target.total, target.total)
    root = open_nodes[0]
    aliased, total = root.aliased, root.total
    if aliased > 100 and total > 1000 and aliased / total > _allowed_alias_ratio(total):
        raise _LimitError("document contains excessive aliasing")


def _add(parent: _Node, total: int, aliased: int) -> None:
    parent.total += total
    parent.aliased += aliased


def _allowed_alias_ratio(decoded: int) -> float:
    """go-yaml v2's `allowedAliasRatio`: 0.99 for small documents down to 0.1."""
    if decoded <= _ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= _ALIAS_RATIO_HIGH:
        return 0.10
    span = _ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW
    return 0.99 - 0.89 * (decoded - _ALIAS_RATIO_LOW) / span


def decode_yaml(body: bytes) -> Any:
    """The JSON value of the first YAML document in `body` (None for none); 400
    BadRequest if it does not parse, exceeds the limits or has no JSON form."""
    try:
        _check_document(body)
        return _jsonable(next(yaml.load_all(body, Loader=_Loader), None))
    except yaml.YAMLError as e:
        raise bad_request(_PREFIX + _yaml_message(e)) from None
    except ValueError as e:
        raise bad_request(_PREFIX + str(e)) from None
    except RecursionError:
        raise bad_request(_PREFIX + "yaml: exceeded max depth") from None
