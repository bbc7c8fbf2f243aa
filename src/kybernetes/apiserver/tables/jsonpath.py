"""The JSONPath of CRD printer columns, with client-go `util/jsonpath` semantics.

`compile_path(".status.conditions[?(@.type==\"Ready\")].status")` parses the body of
one `{...}` action; `JSONPath.find(obj)` returns every match in document order, with
missing keys allowed (they match nothing, as `AllowMissingKeys(true)`). Supported:
`.field` (`\\.` escapes a dot), `.*`, `..field` (recursive descent), `[n]`, `[-n]`,
`[start:end:step]`, `[*]`, `['key']`, unions `[0,2]`, and filters `[?(@.a.b)]`,
`[?(@.x == 'v')]` with `== != < > <= >=` against quoted strings, integers, floats,
`true`/`false` or another `@` path (comparing a null, a map or a list fails).

Errors are client-go's: a malformed path raises `JSONPathError` from `compile_path`;
an evaluation client-go fails (indexing a non-list, an index out of range, comparing
a string with a number, an int with a float) raises `JSONPathError` from `find`, and
the table prints a null cell.

Invariants: a compiled path is immutable and reusable; evaluation never mutates the
document. JSON null values are matched (a field holding null is a match).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

_TERMINATORS: Final = frozenset(" \t\r\n.,[]$@{}")
_SLICE: Final = re.compile(r"^(-?\d*)(:-?\d*)?(:-?\d*)?$")
_DICT_KEY: Final = re.compile(r"^'([^']*)'$")
_FILTER: Final = re.compile(r"^([^!<>=]+)([!<>=]+)(.+?)$")
_OPERATORS: Final = frozenset({"==", "!=", "<", ">", "<=", ">="})


class JSONPathError(ValueError):
    """A path that does not parse, or an evaluation client-go would fail."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str


@dataclass(frozen=True, slots=True)
class _Wildcard:
    pass


@dataclass(frozen=True, slots=True)
class _Recursive:
    pass


@dataclass(frozen=True, slots=True)
class _Slice:
    start: int | None
    end: int | None
    step: int | None
    derived_end: bool  # `[n]`: end is n+1


@dataclass(frozen=True, slots=True)
class _Union:
    branches: tuple[tuple[_Node, ...], ...]


@dataclass(frozen=True, slots=True)
class _Literal:
    value: str | int | float | bool


@dataclass(frozen=True, slots=True)
class _Filter:
    left: tuple[_Node, ...]
    operator: str  # one of _OPERATORS, or "exists"
    right: tuple[_Node, ...]


_Node = _Field | _Wildcard | _Recursive | _Slice | _Union | _Literal | _Filter


class _Parser:
    """client-go's `jsonpath.Parser`, for the inside of one action."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> tuple[_Node, ...]:
        nodes: list[_Node] = []
        while self.pos < len(self.text):
            rest = self.text[self.pos :]
            if rest.startswith("[?("):
                nodes.append(self._filter())
            elif rest.startswith(".."):
                if nodes and isinstance(nodes[-1], _Recursive):
                    raise JSONPathError("invalid multiple recursive descent")
                self.pos += 2
                nodes.append(_Recursive())
                if self.pos < len(self.text) and self.text[self.pos].isalnum():
                    nodes.append(self._field())
            else:
                nodes.extend(self._step())
        return tuple(nodes)

    def _step(self) -> list[_Node]:
        char = self.text[self.pos]
        self.pos += 1
        if char in " @$":
            return []
        if char == ".":
            return [self._field()]
        if char == "[":
            return self._array()
        if char in "'\"":
            return [self._quote(char)]
        if char in "+-" or char.isdigit():
            self.pos -= 1
            return [self._number()]
        if char.isalpha():
            self.pos -= 1
            return [self._identifier()]
        raise JSONPathError(f"unrecognized character in action: {char!r}")

    def _field(self) -> _Node:
        name: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] not in _TERMINATORS:
            if self.text[self.pos] == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
            name.append(self.text[self.pos])
            self.pos += 1
        field = "".join(name)
        return _Wildcard() if field == "*" else _Field(field)

    def _array(self) -> list[_Node]:
        end = self.text.find("]", self.pos)
        if end < 0:
            raise JSONPathError("unterminated array")
        body = self.text[self.pos : end]
        self.pos = end + 1
        if body == "*":
            body = ":"
        if "," in body:
            branches = [_Parser(f"[{part.strip()}]").parse() for part in body.split(",")]
            return [_Union(tuple(branches))]
        if key := _DICT_KEY.match(body):
            return list(_Parser("." + key.group(1)).parse())
        match = _SLICE.match(body)
        if match is None:
            raise JSONPathError(f"invalid array index {body}")
        start, stop, step = match.groups()
        first = int(start) if start else None
        if stop is None:
            return [_Slice(first, (first or 0) + 1, None, True)]
        last = int(stop[1:]) if stop[1:] else None
        return [_Slice(first, last, int(step[1:]) if step and step[1:] else None, False)]

    def _filter(self) -> _Node:
        self.pos += 3
        begin = self.pos
        quote = ""
        while True:
            if self.pos >= len(self.text):
                raise JSONPathError("unterminated filter")
            char = self.text[self.pos]
            self.pos += 1
            if char in "'\"" and (not quote or (char == quote and self.text[self.pos - 2] != "\\")):
                quote = "" if quote else char
            elif char == ")" and not quote:
                break
        if self.text[self.pos : self.pos + 1] != "]":
            raise JSONPathError("unclosed array expect ]")
        self.pos += 1
        body = self.text[begin : self.pos - 2]
        match = _FILTER.match(body)
        if match is None:
            return _Filter(_Parser(body).parse(), "exists", ())
        left, operator, right = match.groups()
        if operator not in _OPERATORS:
            raise JSONPathError(f"unrecognized filter operator {operator}")
        return _Filter(_Parser(left).parse(), operator, _Parser(right).parse())

    def _quote(self, quote: str) -> _Node:
        chars: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] != quote:
            if self.text[self.pos] == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
            chars.append(self.text[self.pos])
            self.pos += 1
        if self.pos >= len(self.text):
            raise JSONPathError("unterminated quoted string")
        self.pos += 1
        return _Literal("".join(chars))

    def _number(self) -> _Node:
        begin = self.pos
        if self.text[self.pos] in "+-":
            self.pos += 1
        while self.pos < len(self.text) and (
            self.text[self.pos].isdigit() or self.text[self.pos] == "."
        ):
            self.pos += 1
        digits = self.text[begin : self.pos]
        try:
            return _Literal(int(digits))
        except ValueError:
            pass
        try:
            return _Literal(float(digits))
        except ValueError:
            raise JSONPathError(f"cannot parse number {digits}") from None

    def _identifier(self) -> _Node:
        begin = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _TERMINATORS:
            self.pos += 1
        word = self.text[begin : self.pos]
        if word in ("true", "false"):
            return _Literal(word == "true")
        raise JSONPathError(f"unrecognized identifier {word}")


@dataclass(frozen=True, slots=True)
class JSONPath:
    """A compiled path; `find` evaluates it against one document."""

    nodes: tuple[_Node, ...]

    def find(self, document: object) -> list[Any]:
        """Every match, in order; [] when a key is missing. JSONPathError as client-go."""
        return _evaluate(self.nodes, [document])


def compile_path(path: str) -> JSONPath:
    """Parses a CRD column's `jsonPath` (the text client-go wraps in `{...}`)."""
    return JSONPath(_Parser(path).parse())


def _evaluate(nodes: tuple[_Node, ...], values: list[Any]) -> list[Any]:
    for node in nodes:
        values = _step(node, values)
    return values


def _step(node: _Node, values: list[Any]) -> list[Any]:
    match node:
        case _Field(name):
            if not name:
                return [v for v in values if v is not None]
            return [v[name] for v in values if isinstance(v, Mapping) and name in v]
        case _Wildcard():
            return [child for v in values for child in _children(v)]
        case _Recursive():
            return [d for v in values for d in _descendants(v)]
        case _Slice():
            return [item for v in values if v is not None for item in _slice(node, v)]
        case _Union(branches):
            return [found for branch in branches for found in _evaluate(branch, values)]
        case _Literal(value):
            return [value]
        case _Filter():
            return [item for v in values for item in _filter(node, v)]
    raise AssertionError(node)


def _children(value: object) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def _descendants(value: object) -> list[Any]:
    """client-go's recursive descent: every container at or under `value`, pre-order."""
    children = _children(value)
    if not children:
        return []
    return [value, *(d for child in children for d in _descendants(child))]


def _slice(node: _Slice, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise JSONPathError(f"{type(value).__name__} is not array or slice")
    length = len(value)
    start = node.start or 0
    if start < 0:
        start += length
    end = length if node.end is None else node.end
    if end < 0 or (end == 0 and node.derived_end):
        end += length
    if start == end:
        return []
    if not 0 <= start < length or not 0 <= end <= length:
        raise JSONPathError(f"array index out of bounds: index {start}, length {length}")
    if start > end:
        raise JSONPathError(f"starting index {start} is greater than ending index {end}")
    if node.step is not None and node.step <= 0:
        raise JSONPathError("step must be > 0")
    return value[start : end : node.step or 1]


def _filter(node: _Filter, value: object) -> list[Any]:
    if not isinstance(value, list):
        raise JSONPathError(f"{type(value).__name__} is not array or slice and cannot be filtered")
    kept = []
    for item in value:
        lefts = _evaluate(node.left, [item])
        if node.operator == "exists":
            if lefts:
                kept.append(item)
            continue
        rights = _evaluate(node.right, [item])
        if not lefts or not rights:
            continue
        if len(lefts) > 1 or len(rights) > 1:
            raise JSONPathError("can only compare one element at a time")
        if _compare(lefts[0], node.operator, rights[0]):
            kept.append(item)
    return kept


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "invalid"  # null, maps and lists


def _compare(left: Any, operator: str, right: Any) -> bool:
    """client-go's forked text/template Equal/Less/...: two scalars of one kind."""
    left_kind, right_kind = _kind(left), _kind(right)
    if "invalid" in (left_kind, right_kind):
        raise JSONPathError("invalid type for comparison")
    if left_kind != right_kind:
        raise JSONPathError("incompatible types for comparison")
    if operator in ("==", "!="):
        return bool(left == right) == (operator == "==")
    if left_kind == "bool":
        raise JSONPathError("invalid type for comparison")
    if operator == "<":
        return bool(left < right)
    if operator == "<=":
        return bool(left <= right)
    if operator == ">":
        return bool(left > right)
    return bool(left >= right)
