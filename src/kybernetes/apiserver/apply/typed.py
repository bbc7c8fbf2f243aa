"""Objects seen through their schema, as structured-merge-diff's `typed` package sees
them: the field set of a value, the difference of two values, merging an applied
configuration into an object, removing fields, and validating an applied configuration.

How a schema position behaves (kube-openapi's `schemaconv` rules on a `SchemaNode`):
- a struct (properties) or a map (additionalProperties) is *granular*: each field or
  key is owned on its own, unless `x-kubernetes-map-type: atomic`;
- a list is a *map* keyed by `x-kubernetes-list-map-keys` (`list-type: map`), a *set*
  of scalars (`list-type: set`), or *atomic*; without a list type, a list with patch
  strategy `merge` is keyed by its patch merge key (a set without one), else atomic;
- a key field missing from an item takes its schema default (`protocol: TCP` of
  container and service ports, `name: ""` of local object references);
- scalars and atomic values are leaves, owned and replaced whole;
- no schema (None), an opaque value (RawExtension...) or a field the schema does not
  declare is *deduced* from the value: maps granular, lists atomic.
An empty (or null) map or list on both sides of a comparison or merge is a leaf.

Values are JSON dicts; MISSING marks an absent value. Invariants: no function mutates
its arguments, and results share no mutable value with them. Pure; thread-safe.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Final

from kybernetes.api.schemanode import NodeType, SchemaNode
from kybernetes.api.validation.errors import go_quote

from .fieldpath import (
    FIELD,
    KEY,
    FieldSet,
    Path,
    PathElement,
    element_string,
    field,
    indexed,
    keyed,
    value_key,
    valued,
)

Node = SchemaNode | None


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

LEAF, MAP, LIST = 0, 1, 2
# Key fields whose default fills an item that omits them (the schemas' `default`s).
_KEY_DEFAULTS: Final[dict[tuple[str | None, str], str]] = {
    ("io.k8s.api.core.v1.ContainerPort", "protocol"): "TCP",
    ("io.k8s.api.core.v1.ServicePort", "protocol"): "TCP",
    ("io.k8s.api.core.v1.LocalObjectReference", "name"): "",
}


def _deduced(node: Node) -> bool:
    return node is None or node.type is NodeType.ANY


def _kind(node: Node, value: Any) -> int:
    """LEAF, or MAP / LIST for a granular container (null counts as an empty one)."""
    if (
        node is None
        or node.type is NodeType.ANY
        or (node.type in (NodeType.OBJECT, NodeType.MAP) and node.map_type != "atomic")
    ):
        return MAP if value is None or isinstance(value, dict) else LEAF
    if node.type is NodeType.ARRAY and list_keys(node) is not None:
        return LIST if value is None or isinstance(value, list) else LEAF
    return LEAF


def list_keys(node: SchemaNode) -> tuple[str, ...] | None:
    """The key fields of an associative list, () for a set, None for an atomic list."""
    list_type = node.list_type
    if list_type == "map":
        return node.list_map_keys
    if list_type == "set":
        return ()
    if list_type is None and "merge" in (node.patch_strategy or "").split(","):
        return (node.merge_key,) if node.merge_key else ()
    return None


def field_node(node: Node, name: str) -> Node:
    """The schema of a map's key or a struct's field (None: deduced)."""
    if _deduced(node):
        return None
    assert node is not None
    if node.type is NodeType.MAP:
        return node.additional_properties()
    return node.properties().get(name)


def _named(node: Node, name: str) -> bool:
    """Whether `name` is a declared field of a struct (owned through its children)."""
    return node is not None and node.type is NodeType.OBJECT and name in node.properties()


def _items(node: Node) -> Node:
    return node.items() if node is not None and node.type is NodeType.ARRAY else None


def item_element(node: SchemaNode, item: Any, index: int) -> PathElement | str:
    """The path element of a list item, or the error that prevents one."""
    keys = list_keys(node)
    if keys is None:
        return indexed(index)
    if not keys:
        if isinstance(item, dict):
            return "associative list without keys has an element that's a map type"
        if isinstance(item, list):
            return "not supported: associative list with lists as elements"
        if item is None:
            return "associative list without keys has an element that's an explicit null"
        return valued(item)
    if item is None:
        return "associative list with keys may not have a null element"
    if not isinstance(item, dict):
        return "associative list with keys may not have non-map elements"
    fields = {}
    definition = (node.items() or node).definition
    for name in keys:
        if name in item:
            fields[name] = item[name]
        elif (definition, name) in _KEY_DEFAULTS:
            fields[name] = _KEY_DEFAULTS[definition, name]
        else:
            return (
                f"associative list with keys has an element that omits key field "
                f"{go_quote(name)} (and doesn't have default value)"
            )
    return keyed(fields)


def _elements(node: SchemaNode, items: list[Any]) -> dict[PathElement, Any]:
    """Each item by its path element (the first of duplicates; unkeyable ones left out)."""
    found: dict[PathElement, Any] = {}
    for index, item in enumerate(items):
        pe = item_element(node, item, index)
        if not isinstance(pe, str):
            found.setdefault(pe, item)
    return found


def equal(a: Any, b: Any) -> bool:
    """Go's `value.Equals`: 1 equals 1.0, but true is not 1."""
    return value_key(a) == value_key(b)


def to_field_set(node: Node, value: Any) -> FieldSet:
    """The fields `value` sets: its leaves, its list items and undeclared map keys."""
    result = FieldSet()
    _collect(node, value, (), result)
    return result


def _collect(node: Node, value: Any, path: Path, out: FieldSet) -> None:
    kind = _kind(node, value)
    if kind == LEAF:
        out.insert(path)
    elif kind == MAP:
        for name, child in (value or {}).items():
            child_path = (*path, field(name))
            _collect(field_node(node, name), child, child_path, out)
            if not _named(node, name):
                out.insert(child_path)
    else:
        assert node is not None
        for index, item in enumerate(value or ()):
            pe = item_element(node, item, index)
            if not isinstance(pe, str):
                _collect(_items(node), item, (*path, pe), out)
                out.insert((*path, pe))


@dataclasses.dataclass
class Comparison:
    """What changed from one value to another (structured-merge-diff's `Comparison`)."""

    added: FieldSet = dataclasses.field(default_factory=FieldSet)
    modified: FieldSet = dataclasses.field(default_factory=FieldSet)
    removed: FieldSet = dataclasses.field(default_factory=FieldSet)

    def excluding(self, ignored: FieldSet) -> Comparison:
        return Comparison(
            self.added.recursive_difference(ignored),
            self.modified.recursive_difference(ignored),
            self.removed.recursive_difference(ignored),
        )


def compare(node: Node, old: Any, new: Any) -> Comparison:
    """The fields added, modified and removed from `old` to `new` (whole objects)."""
    result = Comparison()
    _compare(node, old, new, (), result)
    return result


def _empty(value: Any) -> bool:
    return value is MISSING or not value


def _compare(node: Node, old: Any, new: Any, path: Path, out: Comparison) -> None:
    kind = _kind(node, new if new is not MISSING else old)
    if old is not MISSING and new is not MISSING and _kind(node, old) != kind:
        kind = LEAF  # the value changed shape
    if kind == LEAF or (_empty(old) and _empty(new)):
        if old is MISSING:
            out.added.insert(path)
        elif new is MISSING:
            out.removed.insert(path)
        elif not equal(old, new):
            out.modified.insert(path)
        return
    if kind == MAP:
        olds, news = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
        for name in {**olds, **news}:
            child = field_node(node, name)
            child_path = (*path, field(name))
            _compare(child, olds.get(name, MISSING), news.get(name, MISSING), child_path, out)
    else:
        assert node is not None
        olds = _elements(node, old if isinstance(old, list) else [])
        news = _elements(node, new if isinstance(new, list) else [])
        for pe in {**news, **olds}:
            _compare(_items(node), olds.get(pe, MISSING), news.get(pe, MISSING), (*path, pe), out)
    if old is MISSING:
        out.added.insert(path)
    elif new is MISSING:
        out.removed.insert(path)


def merge(node: Node, live: Any, config: Any) -> Any:
    """`config` merged into `live`: leaves and atomic values of the configuration
    replace the live ones, granular maps merge by key and associative lists by item."""
    if config is MISSING:
        return copy.deepcopy(live)
    kind = _kind(node, config)
    if (
        live is MISSING
        or kind == LEAF
        or _kind(node, live) != kind
        or (_empty(live) and _empty(config))
    ):
        return copy.deepcopy(config)
    if kind == MAP:
        lives, configs = live or {}, config or {}
        return {
            name: merge(
                field_node(node, name), lives.get(name, MISSING), configs.get(name, MISSING)
            )
            for name in {**lives, **configs}
        }
    assert node is not None
    return _merge_list(node, live or [], config or [])


def _merge_list(node: SchemaNode, live: list[Any], config: list[Any]) -> list[Any]:
    """structured-merge-diff's item order: the configured items in their order, each
    live item that is not configured kept in place relative to the configured ones.
    Live items without a usable key, and live duplicates of a key the configuration
    does not set, pass through unchanged."""
    items = _items(node)
    configured = _elements(node, config)
    rhs = list(configured)
    lhs: list[tuple[PathElement, Any]] = []
    live_items: dict[PathElement, Any] = {}
    for index, item in enumerate(live):
        pe = item_element(node, item, index)
        if isinstance(pe, str) or pe in live_items:
            if isinstance(pe, str) or pe not in configured:
                lhs.append(((-1, index), item))  # matches nothing
            continue
        lhs.append((pe, item))
        live_items[pe] = item
    shared = [pe for pe in rhs if pe in live_items]
    out: list[Any] = []
    li = ri = next_shared = 0
    while li < len(lhs) or ri < len(rhs):
        if li < len(lhs) and ri < len(rhs):
            pe = lhs[li][0]
            if pe == rhs[ri]:
                out.append(merge(items, live_items[pe], configured[pe]))
                li, ri, next_shared = li + 1, ri + 1, next_shared + 1
                continue
            if pe in configured and next_shared < len(shared) and shared[next_shared] != pe:
                li += 1  # a shared item, merged when the configuration reaches it
                continue
        if li < len(lhs) and lhs[li][0] not in configured:
            out.append(copy.deepcopy(lhs[li][1]))
            li += 1
            continue
        if ri < len(rhs):
            pe = rhs[ri]
            out.append(merge(items, live_items.get(pe, MISSING), configured[pe]))
            ri += 1
            if next_shared < len(shared) and shared[next_shared] == pe:
                next_shared += 1
        else:
            li += 1  # a shared item already merged
    return out


def remove(node: Node, value: Any, fields: FieldSet) -> Any:
    """`value` without the members of `fields` (each with everything below it).
    Containers that lose all their content stay, empty."""
    if fields.empty() or not value or _kind(node, value) == LEAF:
        return copy.deepcopy(value)
    if isinstance(value, dict):
        return {
            name: remove(field_node(node, name), child, fields.with_prefix(field(name)))
            for name, child in value.items()
            if field(name) not in fields.members
        }
    assert node is not None
    out = []
    for index, item in enumerate(value):
        pe = item_element(node, item, index)
        if isinstance(pe, str):
            out.append(copy.deepcopy(item))
        elif pe not in fields.members:
            out.append(remove(_items(node), item, fields.with_prefix(pe)))
    return out


def with_named_fields(node: Node, fields: FieldSet) -> FieldSet:
    """`fields` plus every declared struct field that has owned children
    (structured-merge-diff's `EnsureNamedFieldsAreMembers`)."""
    members = set(fields.members)
    children = {}
    for pe, child in fields.children.items():
        if pe[0] == FIELD:
            if _named(node, pe[1]):
                members.add(pe)
            children[pe] = with_named_fields(field_node(node, pe[1]), child)
        else:
            children[pe] = with_named_fields(_items(node) if pe[0] == KEY else None, child)
    return FieldSet(members, children)


def validate(node: Node, value: Any) -> list[str]:
    """The errors that make `value` unusable as an applied configuration, worded as
    structured-merge-diff's validation words them (`.spec.foo: field not declared in
    schema`, duplicate or missing list keys). Scalar types are left to decoding."""
    errors: list[str] = []
    _validate(node, value, "", errors)
    return errors


def _validate(node: Node, value: Any, path: str, errors: list[str]) -> None:
    if _deduced(node) or value is None:
        return
    assert node is not None
    where = f"{path}: " if path else ""
    if node.type in (NodeType.OBJECT, NodeType.MAP):
        if not isinstance(value, dict):
            errors.append(f"{where}expected map, got &{{{_go_v(value)}}}")
            return
        for name, child in value.items():
            if node.type is NodeType.OBJECT and name not in node.properties():
                if not node.preserve_unknown_fields:
                    errors.append(f"{path}.{name}: field not declared in schema")
                    return
                continue
            _validate(field_node(node, name), child, f"{path}.{name}", errors)
    elif node.type is NodeType.ARRAY:
        if not isinstance(value, list):
            errors.append(f"{where}expected list, got &{{{_go_v(value)}}}")
            return
        seen: set[PathElement] = set()
        for index, item in enumerate(value):
            pe = item_element(node, item, index)
            if isinstance(pe, str):
                errors.append(f"{where}element {index}: {pe}")
                return
            if pe in seen:
                errors.append(f"{where}duplicate entries for key {element_string(pe)}")
            seen.add(pe)
            _validate(node.items(), item, path + element_string(pe), errors)


def _go_v(value: Any) -> str:
    """Go's `%v` of a decoded JSON value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_go_v(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_v(v)}" for k, v in sorted(value.items())) + "]"
    return "<nil>" if value is None else str(value)
