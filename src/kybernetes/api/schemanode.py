"""A compiled, navigable view of one node of an OpenAPI schema.

`SchemaNode` answers what the decoder, the pruner and the patchers ask of a schema
position: its shape (`type`: object, map, array, scalar, int-or-string, opaque...), its
children (`properties()`, `items()`, `additional_properties()`) and the field's merge
metadata (`patch_strategy`, `merge_key`, `list_type`, `list_map_keys`, `map_type`).

Two sources:
- the built-in definitions of `schema.py` (`for_kind`, `for_definition`): `$ref`s are
  followed, nodes are *typed* (they mirror a Go type, so Go's JSON decoding rules apply,
  and `go_type` names that type for error messages). `RawExtension`, `FieldsV1`, `JSON`
  and the other custom-unmarshalled blobs are opaque (`ANY`); `IntOrString`,
  `Quantity`, `Time` and `MicroTime` have their own node types.
- a CustomResourceDefinition's structural schema (`from_crd_schema`): untyped nodes
  (decoding JSON into unstructured content never fails on types), honouring
  `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-int-or-string` and
  `x-kubernetes-embedded-resource`. The root and embedded resources implicitly have
  `apiVersion`, `kind` and the built-in `metadata` (ObjectMeta).

Invariants: nodes are immutable once built and share their children, which are compiled
lazily on first access and then cached (one node per built-in definition, one property
table per node). The schema dicts are never mutated. Safe to share between threads.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from .schema import definition_name, definitions

Schema = Mapping[str, Any]

RFC3339 = "2006-01-02T15:04:05Z07:00"
RFC3339_MICRO = "2006-01-02T15:04:05.000000Z07:00"

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_OBJECT_META = _META + "ObjectMeta"
# Definitions whose Go types unmarshal themselves from any JSON (or keep it raw).
_OPAQUE = frozenset(
    {
        "io.k8s.apimachinery.pkg.runtime.RawExtension",
        _META + "FieldsV1",
        _META + "Patch",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
    }
)
_TIME_LAYOUTS = {_META + "Time": RFC3339, _META + "MicroTime": RFC3339_MICRO}


class NodeType(enum.Enum):
    OBJECT = "object"  # known properties; unknown ones are kept only if preserved
    MAP = "map"  # string keys, every value described by additional_properties()
    ARRAY = "array"
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    BYTES = "bytes"  # a base64 string ([]byte)
    TIME = "time"  # an RFC 3339 timestamp; `format` is its Go layout
    INT_OR_STRING = "int-or-string"
    QUANTITY = "quantity"  # a resource.Quantity: a string or a number
    ANY = "any"  # opaque: any JSON, not looked into


_SCALARS = {
    "string": NodeType.STRING,
    "integer": NodeType.INTEGER,
    "number": NodeType.NUMBER,
    "boolean": NodeType.BOOLEAN,
}
_GO_SCALARS = {
    NodeType.STRING: "string",
    NodeType.NUMBER: "float64",
    NodeType.BOOLEAN: "bool",
    NodeType.BYTES: "[]uint8",
    NodeType.TIME: "string",
    NodeType.INT_OR_STRING: "intstr.IntOrString",
    NodeType.QUANTITY: "resource.Quantity",
    NodeType.ANY: "interface {}",
}


class SchemaNode:
    """One schema position. Build with `for_kind`, `for_definition` or `from_crd_schema`."""

    __slots__ = (
        "_additional",
        "_embedded",
        "_items",
        "_props",
        "_schema",
        "definition",
        "format",
        "list_map_keys",
        "list_type",
        "map_type",
        "merge_key",
        "patch_strategy",
        "preserve_unknown_fields",
        "type",
        "typed",
    )

    def __init__(
        self,
        schema: Schema,
        *,
        typed: bool,
        definition: str | None = None,
        field: Schema | None = None,
    ) -> None:
        """Compiles `schema` (already `$ref`-resolved). `field` holds the `x-kubernetes-*`
        extensions written beside a `$ref` (they describe the field, not the type)."""
        ext = {**schema, **field} if field else schema
        self._schema = schema
        self.typed = typed
        self.definition = definition
        self.patch_strategy: str | None = ext.get("x-kubernetes-patch-strategy")
        self.merge_key: str | None = ext.get("x-kubernetes-patch-merge-key")
        self.list_type: str | None = ext.get("x-kubernetes-list-type")
        self.list_map_keys: tuple[str, ...] = tuple(ext.get("x-kubernetes-list-map-keys", ()))
        self.map_type: str | None = ext.get("x-kubernetes-map-type")
        self.preserve_unknown_fields: bool = bool(ext.get("x-kubernetes-preserve-unknown-fields"))
        self._embedded = bool(ext.get("x-kubernetes-embedded-resource"))
        self.format: str | None = schema.get("format")
        self.type = self._classify(schema, definition)
        self._props: dict[str, SchemaNode] | None = None
        self._items: SchemaNode | None = None
        self._additional: SchemaNode | None = None

    @staticmethod
    def for_definition(name: str) -> SchemaNode:
        """The node of a built-in definition (cached: one node per name). KeyError if unknown."""
        return _definition_node(name)

    @staticmethod
    def for_kind(group: str, version: str, kind: str) -> SchemaNode | None:
        """The root node of a built-in kind (`""` is the core group), or None."""
        name = definition_name(group, version, kind)
        return None if name is None else _definition_node(name)

    @staticmethod
    def from_crd_schema(schema: Schema) -> SchemaNode:
        """The root node of a custom resource, from its version's `openAPIV3Schema`.
        Not cached: the caller keeps it for as long as that CRD version is served."""
        return SchemaNode(schema, typed=False, field={"x-kubernetes-embedded-resource": True})

    def _classify(self, schema: Schema, definition: str | None) -> NodeType:
        if definition is not None:
            if definition in _OPAQUE:
                return NodeType.ANY
            if definition == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
                return NodeType.INT_OR_STRING
            if definition == "io.k8s.apimachinery.pkg.api.resource.Quantity":
                return NodeType.QUANTITY
            if definition in _TIME_LAYOUTS:
                self.format = _TIME_LAYOUTS[definition]
                return NodeType.TIME
        if schema.get("x-kubernetes-int-or-string"):
            return NodeType.INT_OR_STRING
        declared = schema.get("type")
        types = [declared] if isinstance(declared, str) else [t for t in declared or () if t]
        kind = next((t for t in types if t != "null"), None)
        if kind == "object" or (kind is None and ("properties" in schema or self._embedded)):
            if "properties" in schema or self._embedded:
                return NodeType.OBJECT
            if isinstance(schema.get("additionalProperties"), Mapping):
                return NodeType.MAP
            if self.preserve_unknown_fields or schema.get("additionalProperties") is True:
                return NodeType.ANY
            return NodeType.OBJECT  # an empty struct: every field is unknown
        if kind == "array":
            return NodeType.ARRAY
        if kind == "string" and self.typed and self.format == "byte":
            return NodeType.BYTES
        return _SCALARS.get(kind or "", NodeType.ANY)

    def _child(self, schema: Schema) -> SchemaNode:
        if not self.typed:
            return SchemaNode(schema, typed=False)
        ref = schema.get("$ref")
        if ref is None:
            return SchemaNode(schema, typed=True)
        name = ref.rsplit("/", 1)[-1]
        field = {k: v for k, v in schema.items() if k.startswith("x-kubernetes-")}
        if not field:
            return _definition_node(name)
        return SchemaNode(definitions()[name], typed=True, definition=name, field=field)

    def properties(self) -> Mapping[str, SchemaNode]:
        """The known fields of an OBJECT (empty for other types). Do not mutate."""
        props = self._props
        if props is None:
            declared = self._schema.get("properties", {})
            props = {name: self._child(sub) for name, sub in declared.items()}
            if self._embedded:
                untyped_string = SchemaNode({"type": "string"}, typed=False)
                props.setdefault("apiVersion", untyped_string)
                props.setdefault("kind", untyped_string)
                props["metadata"] = _definition_node(_OBJECT_META)
            self._props = props
        return props

    def items(self) -> SchemaNode | None:
        """The element node of an ARRAY, else None."""
        if self._items is None and self.type is NodeType.ARRAY:
            sub = self._schema.get("items")
            self._items = self._child(sub if isinstance(sub, Mapping) else {})
        return self._items

    def additional_properties(self) -> SchemaNode | None:
        """The value node of a MAP, else None."""
        if self._additional is None and self.type is NodeType.MAP:
            self._additional = self._child(self._schema["additionalProperties"])
        return self._additional

    def child(self, segment: str | int) -> SchemaNode | None:
        """The node one step down: a property or map value for a str, an item for an int."""
        if isinstance(segment, int):
            return self.items()
        if self.type is NodeType.MAP:
            return self.additional_properties()
        return self.properties().get(segment)

    def at(self, path: Iterable[str | int]) -> SchemaNode | None:
        """The node at `path` (e.g. `["spec", "template", "spec", "containers"]`), or None
        if the schema has no such position (or it lies inside an opaque value)."""
        node: SchemaNode | None = self
        for segment in path:
            if node is None:
                return None
            node = node.child(segment)
        return node

    @property
    def struct_name(self) -> str:
        """The Go struct's name (`PodSpec`) for a typed definition node, else ""."""
        if self.definition is None or not self.typed:
            return ""
        return self.definition.rsplit(".", 1)[-1]

    @property
    def go_type(self) -> str:
        """The Go type as Go's JSON errors print it (`int32`, `[]v1.Container`,
        `map[string]string`, `v1.PodSpec`). Named string and map types (`v1.PullPolicy`,
        `v1.ResourceList`) come out as their underlying type."""
        if self.type is NodeType.INTEGER:
            return self.format if self.format in ("int32", "int64") else "int64"
        if self.type is NodeType.ARRAY:
            items = self.items()
            return "[]" + (items.go_type if items else "interface {}")
        if self.type is NodeType.MAP:
            value = self.additional_properties()
            return "map[string]" + (value.go_type if value else "interface {}")
        if self.type is NodeType.OBJECT:
            if self.definition is None:
                return "map[string]interface {}"
            package, name = self.definition.rsplit(".", 2)[-2:]
            return f"{package}.{name}"
        return _GO_SCALARS[self.type]

    def __repr__(self) -> str:
        return f"SchemaNode({self.type.value}, {self.definition or self.go_type})"


@functools.cache
def _definition_node(name: str) -> SchemaNode:
    return SchemaNode(definitions()[name], typed=True, definition=name)
