"""Field paths, field sets and their `FieldsV1` encoding (structured-merge-diff's
`fieldpath` package, as kube-apiserver 1.32 uses it).

A path element selects one child of a value:
- a field of a map or struct, `("f", name)` on the wire `f:name`;
- an item of an associative list by its keys, `k:{"containerPort":80,"protocol":"TCP"}`;
- an item of a set by its value, `v:"finalizer.example.com"`;
- an item of an atomic list by its index, `i:0` (only ever inside atomic values).

Elements are tuples `(tag, payload)`: tags order fields before keys before values
before indices, and payloads order as Go's `value.Compare` does (numbers, then strings,
booleans, lists, maps, null; an int equals the float of the same value). So sorting
elements sorts them exactly as structured-merge-diff does, which fixes the key order
of `FieldsV1` and the order conflicts are reported in.

A `FieldSet` is a tree: `members` are the elements owned at this level, `children` the
subsets below an element. Owning a child does not imply owning its parent: `f:spec`
without `.` means "something under spec", with `.` (or as a leaf) "spec itself".

Invariants: a set never holds an empty child (an empty child would encode as a
member). Sets are values: the operations return new sets that may share subtrees with
their operands, so a set is never mutated once built; `insert` is for the code that
builds a new set. Pure and thread-safe.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Final

from kybernetes.api.validation.errors import go_quote

FIELD: Final = 0
KEY: Final = 1
VALUE: Final = 2
INDEX: Final = 3

PathElement = tuple[int, Any]
Path = tuple[PathElement, ...]

_PREFIXES: Final = {FIELD: "f:", KEY: "k:", VALUE: "v:", INDEX: "i:"}
_HTML_ESCAPES: Final = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
_LINE_SEPARATORS: Final = {"\u2028": "\\u2028", "\u2029": "\\u2029"}


class FieldsV1Error(ValueError):
    """A `fieldsV1` value that does not decode (structured-merge-diff's wording)."""


def value_key(value: Any) -> tuple[Any, ...]:
    """A JSON value as a hashable, ordered key: equal (in Go's sense) values give equal
    keys, and keys sort as Go's `value.Compare` sorts values."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(value_key(item) for item in value))
    if isinstance(value, dict):
        return (4, tuple(sorted((k, value_key(v)) for k, v in value.items())))
    return (5,)


def key_value(key: tuple[Any, ...]) -> Any:
    """The JSON value a `value_key` was made from."""
    rank = key[0]
    if rank == 3:
        return [key_value(item) for item in key[1]]
    if rank == 4:
        return {name: key_value(item) for name, item in key[1]}
    return None if rank == 5 else key[1]


def field(name: str) -> PathElement:
    return (FIELD, name)


def keyed(fields: Mapping[str, Any]) -> PathElement:
    """The element of an associative list item with these key fields."""
    return (KEY, tuple(sorted((name, value_key(v)) for name, v in fields.items())))


def valued(value: Any) -> PathElement:
    """The element of a set item."""
    return (VALUE, value_key(value))


def indexed(index: int) -> PathElement:
    return (INDEX, index)


def make_path(*names: str) -> Path:
    """A path of field names: `make_path("metadata", "labels")`."""
    return tuple(field(name) for name in names)


def _go_float(number: float) -> str:
    """Go's `%v` of a float64."""
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    text = repr(number)
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return text
    sign = "-" if exponent.startswith("-") else "+"
    return f"{mantissa}e{sign}{exponent.lstrip('+-').rjust(2, '0')}"


def _to_string(value: Any) -> str:
    """structured-merge-diff's `value.ToString`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list):
        return "[" + ",".join(_to_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return "".join(f"{k}={_to_string(v)}" for k, v in value.items())
    return str(value)


def element_string(pe: PathElement) -> str:
    """The element as conflicts and errors print it: `.name`, `[name="c"]`, `[="x"]`, `[0]`."""
    tag, payload = pe
    if tag == FIELD:
        return "." + str(payload)
    if tag == KEY:
        return "[" + ",".join(f"{n}={_to_string(key_value(v))}" for n, v in payload) + "]"
    if tag == VALUE:
        return f"[={_to_string(key_value(payload))}]"
    return f"[{payload}]"


def path_string(path: Path) -> str:
    """`.spec.template.spec.containers[name="nginx"].image`."""
    return "".join(element_string(pe) for pe in path)


def go_json(value: Any) -> str:
    """Compact JSON as Go's encoding/json writes it: sorted keys, HTML characters and
    line separators escaped, integral floats without a fraction."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        for char, escape in {**_HTML_ESCAPES, **_LINE_SEPARATORS}.items():
            text = text.replace(char, escape)
        return text
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return _go_float(value) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    items = sorted(value.items())
    return "{" + ",".join(f"{go_json(k)}:{go_json(v)}" for k, v in items) + "}"


def serialize_element(pe: PathElement) -> str:
    """The element as a `FieldsV1` key: `f:name`, `k:{...}`, `v:...`, `i:0`."""
    tag, payload = pe
    if tag == FIELD:
        body = str(payload)
    elif tag == KEY:
        body = "{" + ",".join(f"{go_json(n)}:{go_json(key_value(v))}" for n, v in payload) + "}"
    elif tag == VALUE:
        body = go_json(key_value(payload))
    else:
        body = str(payload)
    return _PREFIXES[tag] + body


def deserialize_element(text: str) -> PathElement | None:
    """Parses a `FieldsV1` key; None for an element type this version does not know
    (those are dropped, as structured-merge-diff drops them)."""
    if len(text) < 2:
        raise FieldsV1Error("key must be 2 characters long:")
    if text[1] != ":":
        raise FieldsV1Error(f"missing colon: {text}")
    kind, body = text[0], text[2:]
    if kind == "f":
        return field(body)
    if kind == "i":
        try:
            return indexed(int(body, 10))
        except ValueError:
            raise FieldsV1Error(f'strconv.Atoi: parsing "{body}": invalid syntax') from None
    if kind not in "kv":
        return None
    try:
        value = json.loads(body)
    except ValueError as e:
        raise FieldsV1Error(f"parsing key as path element: {e}") from None
    if kind == "v":
        return valued(value)
    if not isinstance(value, dict):
        raise FieldsV1Error(f"parsing key as path element: expected an object: {body}")
    return keyed(value)


class FieldSet:
    """A set of field paths (see the module docstring)."""

    __slots__ = ("children", "members")

    def __init__(
        self,
        members: set[PathElement] | None = None,
        children: dict[PathElement, FieldSet] | None = None,
    ) -> None:
        self.members: set[PathElement] = members if members is not None else set()
        self.children: dict[PathElement, FieldSet] = children if children is not None else {}

    @classmethod
    def of(cls, *paths: Path) -> FieldSet:
        result = cls()
        for path in paths:
            result.insert(path)
        return result

    def insert(self, path: Path) -> None:
        """Adds `path` (not its parents). Only for a set being built: sets are shared."""
        if not path:
            return  # nobody owns the whole object
        node = self
        for pe in path[:-1]:
            node = node.children.setdefault(pe, FieldSet())
        node.members.add(path[-1])

    def empty(self) -> bool:
        return not self.members and not self.children

    def with_prefix(self, pe: PathElement) -> FieldSet:
        """The paths below `pe`, without it."""
        return self.children.get(pe) or _EMPTY

    def union(self, other: FieldSet) -> FieldSet:
        children = dict(self.children)
        for pe, child in other.children.items():
            mine = children.get(pe)
            children[pe] = child if mine is None else mine.union(child)
        return FieldSet(self.members | other.members, children)

    def intersection(self, other: FieldSet) -> FieldSet:
        children = {}
        for pe, child in self.children.items():
            theirs = other.children.get(pe)
            if theirs is not None and not (both := child.intersection(theirs)).empty():
                children[pe] = both
        return FieldSet(self.members & other.members, children)

    def difference(self, other: FieldSet) -> FieldSet:
        """Leaf-wise difference: a parent minus its child is the parent."""
        children = {}
        for pe, child in self.children.items():
            theirs = other.children.get(pe)
            rest = child if theirs is None else child.difference(theirs)
            if not rest.empty():
                children[pe] = rest
        return FieldSet(self.members - other.members, children)

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Removes every member of `other` together with everything below it."""
        children = {}
        for pe, child in self.children.items():
            if pe in other.members:
                continue
            theirs = other.children.get(pe)
            rest = child if theirs is None else child.recursive_difference(theirs)
            if not rest.empty():
                children[pe] = rest
        return FieldSet(self.members - other.members, children)

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every member path: this level's members first, then each child's, in order."""
        for pe in sorted(self.members):
            yield (*prefix, pe)
        for pe in sorted(self.children):
            yield from self.children[pe].paths((*prefix, pe))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FieldSet)
            and self.members == other.members
            and self.children == other.children
        )

    def __repr__(self) -> str:
        return f"FieldSet({[path_string(p) for p in self.paths()]})"

    def to_fields_v1(self) -> dict[str, Any]:
        """The `FieldsV1` JSON object, its keys in structured-merge-diff's order."""
        out: dict[str, Any] = {}
        for pe in sorted(self.members | self.children.keys()):
            child = self.children.get(pe)
            if child is None:
                out[serialize_element(pe)] = {}
            else:
                inner = child.to_fields_v1()
                out[serialize_element(pe)] = {".": {}, **inner} if pe in self.members else inner
        return out

    @classmethod
    def from_fields_v1(cls, encoded: Any) -> FieldSet:
        """Decodes a `FieldsV1` JSON value (null is the empty set); FieldsV1Error if it
        is malformed."""
        children, _ = _read(encoded)
        return children or cls()


_EMPTY: Final = FieldSet()


def _read(encoded: Any) -> tuple[FieldSet | None, bool]:
    """One level of `FieldsV1`: (the children, or None if there are none; whether the
    element that holds `encoded` is itself a member)."""
    if encoded is None:
        return None, True
    if not isinstance(encoded, dict):
        raise FieldsV1Error(f"ReadMapCB: expect {{ or n, but found {go_json(encoded)[:1]}")
    result: FieldSet | None = None
    is_member = False
    for text, value in encoded.items():
        if text == ".":
            is_member = True
            continue
        pe = deserialize_element(text)
        if pe is None:
            continue
        grandchildren, child_is_member = _read(value)
        if result is None:
            result = FieldSet()
        if child_is_member:
            result.members.add(pe)
        if grandchildren is not None:
            result.children[pe] = grandchildren
    return result, result is None or is_member
