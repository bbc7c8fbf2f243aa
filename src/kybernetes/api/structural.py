"""Structural decoding of an object against its schema: unknown fields, Go type errors,
pruning.

kube-apiserver decodes a request body into Go structs (built-in kinds) or prunes it
against the CRD's structural schema (custom resources). Either way fields the schema
does not know are dropped; `fieldValidation=Strict` rejects them and `Warn` warns, each
worded `unknown field "spec.template.spec.containers[0].imagePullPolicyy"`. A value that
does not fit its Go type fails the decoding with Go's message, which kube-apiserver
returns as `<Kind> in version "<v>" cannot be handled as a <Kind>: <message>`.

`check(obj, node, prune=...)` walks `obj` once and reports both. With `prune=True` it
also removes the unknown fields from `obj` in place, as the Go decoder drops them.

Invariants:
- Unknown-field paths are in document order, dot-separated, array indices in brackets,
  map keys as path segments (sigs.k8s.io/json's strict-decoding paths).
- `null` fits every field (Go leaves the zero value). Fields under an opaque node
  (`RawExtension`, `x-kubernetes-preserve-unknown-fields`) are never reported.
- Type errors are reported only for typed (built-in) nodes; a value of the wrong shape
  is not descended into, so nothing under it is reported or pruned.
- `Findings.decode_error` is the one message Go's decoder returns: the first error a
  custom unmarshaller raised (decoding stops there), else the first type error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .godecode import (
    INT_BOUNDS,
    base64_error,
    describe,
    integer_mismatch,
    quantity_error,
    time_error,
)
from .schemanode import NodeType, SchemaNode

_OBJECT = NodeType.OBJECT
_MAP = NodeType.MAP
_ARRAY = NodeType.ARRAY
_STRING = NodeType.STRING
_INTEGER = NodeType.INTEGER
_BOOLEAN = NodeType.BOOLEAN
_ANY = NodeType.ANY
_INT32_MIN, _INT32_MAX = INT_BOUNDS["int32"]

# A position in the object: None at the root, else (parent, key or index).
_Path = tuple[Any, str | int] | None


@dataclass(frozen=True, slots=True)
class DecodeError:
    """A value Go's decoder rejects. `path` is the indexed path of the value
    (`spec.containers[0].ports`); `message` is Go's wording; `fatal` is True when a
    custom unmarshaller raised it (Go's decoding stops at the first such error)."""

    path: str
    message: str
    fatal: bool


@dataclass(slots=True)
class Findings:
    """What one walk found, in document order: the paths of unknown fields (pruned if
    asked) and the values Go's decoder rejects."""

    unknown_fields: list[str] = field(default_factory=list)
    decode_errors: list[DecodeError] = field(default_factory=list)

    @property
    def decode_error(self) -> str | None:
        """The error Go's decoder would return for the whole object, or None."""
        for error in self.decode_errors:
            if error.fatal:
                return error.message
        return self.decode_errors[0].message if self.decode_errors else None

    def unknown_field_messages(self) -> list[str]:
        """`unknown field "<path>"` per unknown field: the strict-decoding errors
        (joined with ", " after "strict decoding error: ") and the Warn warnings."""
        return [f'unknown field "{path}"' for path in self.unknown_fields]


def check(obj: Any, node: SchemaNode, *, prune: bool = False) -> Findings:
    """Walks `obj` (a decoded JSON value) against `node`, usually a kind's root.

    Never raises for any JSON value. With `prune`, unknown fields are deleted from the
    dicts of `obj` in place (idempotent); otherwise `obj` is left untouched. An object
    nested deeper than Python's recursion limit allows (hundreds of levels, only
    possible under recursive schemas such as JSONSchemaProps) gets a fatal error.
    """
    walker = _Walker(node, prune)
    try:
        if obj is not None:
            walker.walk(obj, node, None)
    except RecursionError:
        walker.findings.decode_errors.append(DecodeError("", "json: exceeded max depth", True))
    return walker.findings


def _format_path(path: _Path) -> str:
    """`spec.containers[0].name` from a linked path."""
    parts: list[str] = []
    while path is not None:
        path, segment = path
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            parts.append(f".{segment}" if path is not None else segment)
    return "".join(reversed(parts))


def _segments(path: _Path) -> list[str | int]:
    out: list[str | int] = []
    while path is not None:
        path, segment = path
        out.append(segment)
    out.reverse()
    return out


# What Go's decoder leaves in a slice element or map value given JSON null: the zero
# value of the element's type (None where that zero value encodes as null).
_ZERO_VALUES: dict[NodeType, Any] = {
    _STRING: "",
    _INTEGER: 0,
    NodeType.NUMBER: 0,
    _BOOLEAN: False,
    NodeType.QUANTITY: "0",
    NodeType.INT_OR_STRING: 0,
}


def _zero_nulls(container: Any, keys: Iterable[Any], element: SchemaNode) -> None:
    """Replaces JSON nulls among `container[k]` with the element type's zero value."""
    if element.type is _OBJECT:
        for key in keys:
            if container[key] is None:
                container[key] = {}  # a fresh zero struct each time
        return
    zero = _ZERO_VALUES.get(element.type)
    if zero is not None:
        for key in keys:
            if container[key] is None:
                container[key] = zero


class _Walker:
    __slots__ = ("findings", "prune", "root")

    def __init__(self, root: SchemaNode, prune: bool) -> None:
        self.root = root
        self.prune = prune
        self.findings = Findings()

    def walk(self, value: Any, node: SchemaNode, path: _Path) -> None:
        """Checks a non-null `value` against `node`."""
        kind = node.type
        if kind is _OBJECT:
            if type(value) is dict:
                self._object(value, node, path)
            else:
                self._mismatch(node, path, describe(value))
        elif kind is _ARRAY:
            if type(value) is list:
                self._array(value, node, path)
            else:
                self._mismatch(node, path, describe(value))
        elif kind is _MAP:
            if type(value) is dict:
                self._map(value, node, path)
            else:
                self._mismatch(node, path, describe(value))
        elif node.typed:
            self._scalar(value, node, path)

    def _object(self, value: dict[str, Any], node: SchemaNode, path: _Path) -> None:
        props = node.properties()
        unknown: list[str] | None = None
        for key, item in value.items():
            child = props.get(key)
            if child is None:
                if not node.preserve_unknown_fields:
                    self.findings.unknown_fields.append(_format_path((path, key)))
                    if self.prune:
                        if unknown is None:
                            unknown = []
                        unknown.append(key)
                continue
            # The common shapes are inlined; the rest goes through walk().
            kind = child.type
            if kind is _STRING:
                if type(item) is not str and item is not None and child.typed:
                    self._mismatch(child, (path, key), describe(item))
            elif item is None or kind is _ANY:
                continue
            elif kind is _OBJECT:
                if type(item) is dict:
                    self._object(item, child, (path, key))
                else:
                    self._mismatch(child, (path, key), describe(item))
            elif kind is _INTEGER:
                if child.typed and (type(item) is not int or not _INT32_MIN <= item <= _INT32_MAX):
                    self._scalar(item, child, (path, key))
            elif kind is _ARRAY and type(item) is list:
                self._array(item, child, (path, key))
            elif kind is _BOOLEAN:
                if type(item) is not bool and child.typed:
                    self._mismatch(child, (path, key), describe(item))
            else:
                self.walk(item, child, (path, key))
        if unknown is not None:
            for key in unknown:
                del value[key]

    def _array(self, value: list[Any], node: SchemaNode, path: _Path) -> None:
        items = node.items()
        if items is None:
            return
        if self.prune and items.typed:
            _zero_nulls(value, range(len(value)), items)
        kind = items.type
        if kind is _OBJECT:
            for index, item in enumerate(value):
                if type(item) is dict:
                    self._object(item, items, (path, index))
                elif item is not None:
                    self._mismatch(items, (path, index), describe(item))
        elif kind is _STRING:
            if items.typed:
                for index, item in enumerate(value):
                    if type(item) is not str and item is not None:
                        self._mismatch(items, (path, index), describe(item))
        elif kind is not _ANY:
            for index, item in enumerate(value):
                if item is not None:
                    self.walk(item, items, (path, index))

    def _map(self, value: dict[str, Any], node: SchemaNode, path: _Path) -> None:
        element = node.additional_properties()
        if element is None:
            return
        if self.prune and element.typed:
            _zero_nulls(value, list(value), element)
        kind = element.type
        if kind is _STRING:
            if element.typed:
                for key, item in value.items():
                    if type(item) is not str and item is not None:
                        self._mismatch(element, (path, key), describe(item))
        elif kind is not _ANY:
            for key, item in value.items():
                if item is not None:
                    self.walk(item, element, (path, key))

    def _scalar(self, value: Any, node: SchemaNode, path: _Path) -> None:
        kind = node.type
        if kind is _STRING:
            if type(value) is not str:
                self._mismatch(node, path, describe(value))
        elif kind is _BOOLEAN:
            if type(value) is not bool:
                self._mismatch(node, path, describe(value))
        elif kind is _INTEGER:
            mismatch = integer_mismatch(value, node.go_type)
            if mismatch is not None:
                self._mismatch(node, path, mismatch)
        elif kind is NodeType.NUMBER:
            if type(value) is not int and type(value) is not float:
                self._mismatch(node, path, describe(value))
        elif kind is NodeType.BYTES:
            if type(value) is not str:
                self._mismatch(node, path, describe(value))
            else:
                self._report(path, base64_error(value), fatal=False)
        elif kind is NodeType.INT_OR_STRING:
            if type(value) is not str:
                mismatch = integer_mismatch(value, "int32")
                if mismatch is not None:
                    message = f"json: cannot unmarshal {mismatch} into Go value of type int32"
                    self._report(path, message, fatal=True)
        elif kind is NodeType.QUANTITY:
            self._report(path, quantity_error(value), fatal=True)
        elif kind is NodeType.TIME:
            self._report(path, time_error(value, node.format or ""), fatal=True)

    def _report(self, path: _Path, message: str | None, *, fatal: bool) -> None:
        if message is not None:
            self.findings.decode_errors.append(DecodeError(_format_path(path), message, fatal))

    def _mismatch(self, node: SchemaNode, path: _Path, value: str) -> None:
        """Records Go's UnmarshalTypeError for `value` (its JSON description) at `path`.
        Untyped (CRD) nodes leave type errors to schema validation."""
        if not node.typed:
            return
        struct, fields = self._go_context(path)
        where = f"Go struct field {struct}.{'.'.join(fields)}" if struct else "Go value"
        message = f"json: cannot unmarshal {value} into {where} of type {node.go_type}"
        self._report(path, message, fatal=False)

    def _go_context(self, path: _Path) -> tuple[str, list[str]]:
        """Go's error context for `path`: the innermost struct holding the field and the
        JSON names of the struct fields leading there (array indices and map keys do not
        appear). Re-walks the schema; only runs on errors."""
        struct, fields = "", []
        node: SchemaNode | None = self.root
        for segment in _segments(path):
            if node is None:
                break
            if node.type is _OBJECT and isinstance(segment, str):
                struct = node.struct_name
                fields.append(segment)
            node = node.child(segment)
        return struct, fields
