"""The schemas of the OpenAPI documents: built-in definitions and custom resources.

The built-in definitions come from `api.schema`, in the JSON-schema flavour of
kubernetes-validate; `v3_definition` undoes that flavour to give the component schemas
kube-apiserver serves under `/openapi/v3`:

- `$ref`s point at `#/components/schemas/NAME`, and a `$ref` with siblings (a
  description...) is wrapped as `allOf: [{$ref}]` beside them (kube-openapi's wrapRefs);
- `type: [T, "null"]` becomes `type: T` (built-in fields are not `nullable`);
- the `enum`s the generator pinned on every kind's `apiVersion` and `kind` are dropped;
- `Quantity` and `IntOrString` get kube-apiserver's own forms (`oneOf` of their types).

`to_v2` turns a v3 component schema into its Swagger 2.0 definition (`#/definitions/`
refs, unwrapped, no `nullable`/`oneOf`/`anyOf`/`not`), as `/openapi/v2` publishes it.
What kubernetes-validate lost cannot be restored: the `default`s kube-apiserver derives
from Go zero values are absent.

`SchemaCatalog` adds the schemas of custom resources (from a CustomResourceDefinition's
`openAPIV3Schema`) to the built-ins. Converted schemas are shared between documents and
must never be mutated.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from typing import Any

from kybernetes.api import schema as definitions
from kybernetes.api.resources import ResourceInfo

Schema = dict[str, Any]

V3_PREFIX = "#/components/schemas/"
V2_PREFIX = "#/definitions/"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"

_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY_TEXT = (
    "Quantity is a fixed-point representation of a number. It provides convenient "
    "marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() "
    "accessors.\n\nThe serialization format is:\n\n``` <quantity>        ::= "
    '<signedNumber><suffix>\n\n\t(Note that <suffix> may be empty, from the "" case in '
    "<decimalSI>.)\n\n<digit>           ::= 0 | 1 | ... | 9 <digits>          ::= <digit> | "
    "<digit><digits> <number>          ::= <digits> | <digits>.<digits> | <digits>. | "
    '.<digits> <sign>            ::= "+" | "-" <signedNumber>    ::= <number> | '
    "<sign><number> <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI> "
    "<binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei\n\n\t(International System of units; "
    'See: http://physics.nist.gov/cuu/Units/binary.html)\n\n<decimalSI>       ::= m | "" | '
    "k | M | G | T | P | E\n\n\t(Note that 1024 = 1Ki but 1000 = 1k; I didn't choose the "
    'capitalization.)\n\n<decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber> ```'
    "\n\nNo matter which of the three exponent forms is used, no quantity may represent a "
    "number greater than 2^63-1 in magnitude, nor may it have more than 3 decimal places. "
    "Numbers larger or more precise will be capped or rounded up. (E.g.: 0.1m will rounded "
    "up to 1m.) This may be extended in the future if we require larger or smaller "
    "quantities.\n\nWhen a Quantity is parsed from a string, it will remember the type of "
    "suffix it had, and will use the same type again when it is serialized.\n\nBefore "
    'serializing, Quantity will be put in "canonical form". This means that '
    "Exponent/suffix will be adjusted up or down (with a corresponding increase or decrease "
    "in Mantissa) such that:\n\n- No precision is lost - No fractional digits will be "
    "emitted - The exponent (or suffix) is as large as possible.\n\nThe sign will be omitted "
    'unless the number is negative.\n\nExamples:\n\n- 1.5 will be serialized as "1500m" - '
    '1.5Gi will be serialized as "1536Mi"\n\nNote that the quantity will NEVER be internally '
    "represented by a floating point number. That is the whole point of this exercise.\n\n"
    "Non-canonical values will still parse as long as they are well formed, but will be "
    "re-emitted in their canonical form. (So always use canonical form, or don't diff.)\n\n"
    "This format is intended to make it difficult to use these numbers without writing some "
    "sort of special handling code in the hopes that that will cause implementors to also "
    "use a fixed point implementation."
)
_INT_OR_STRING_TEXT = (
    "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML "
    "marshalling and unmarshalling, it produces or consumes the inner type.  This allows you "
    "to have, for example, a JSON field that can accept a name or number."
)
_V3_OVERRIDES: dict[str, Schema] = {
    _QUANTITY: {"description": _QUANTITY_TEXT, "oneOf": [{"type": "string"}, {"type": "number"}]},
    _INT_OR_STRING: {
        "description": _INT_OR_STRING_TEXT,
        "format": "int-or-string",
        "oneOf": [{"type": "integer"}, {"type": "string"}],
    },
}
_V2_OVERRIDES: dict[str, Schema] = {
    _QUANTITY: {"description": _QUANTITY_TEXT, "type": "string"},
    _INT_OR_STRING: {
        "description": _INT_OR_STRING_TEXT,
        "format": "int-or-string",
        "type": "string",
    },
}
_TYPE_META_PROPERTIES = ("apiVersion", "kind")
_SUBSCHEMA = ("items", "additionalProperties", "not")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")

_API_VERSION_TEXT = (
    "APIVersion defines the versioned schema of this representation of an object. Servers "
    "should convert recognized schemas to the latest internal value, and may reject "
    "unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
)
_KIND_TEXT = (
    "Kind is a string value representing the REST resource this object represents. Servers "
    "may infer this from the endpoint the client submits requests to. Cannot be updated. In "
    "CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)
_METADATA_TEXT = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
_LIST_METADATA_TEXT = (
    "Standard list metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)


def _from_source(node: Schema) -> Schema:
    """One kubernetes-validate schema node in its v3 component form."""
    out: Schema = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = V3_PREFIX + value.rsplit("/", 1)[-1]
        elif key == "type" and isinstance(value, list):
            out[key] = next(t for t in value if t != "null")
        elif key == "properties":
            out[key] = {
                name: _from_source(
                    {k: v for k, v in sub.items() if k != "enum"}
                    if name in _TYPE_META_PROPERTIES
                    else sub
                )
                for name, sub in value.items()
            }
        elif key in _SUBSCHEMA and isinstance(value, dict):
            out[key] = _from_source(value)
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [_from_source(sub) for sub in value]
        else:
            out[key] = value
    ref = out.get("$ref")
    if ref is not None and len(out) > 1:
        del out["$ref"]
        out = {"allOf": [{"$ref": ref}], **out}
    return out


def to_v2(node: Schema) -> Schema:
    """A v3 component schema (node) as a Swagger 2.0 definition."""
    out: Schema = {}
    for key, value in node.items():
        if key == "$ref":
            out[key] = V2_PREFIX + value.removeprefix(V3_PREFIX)
        elif key == "allOf" and len(value) == 1 and set(value[0]) == {"$ref"}:
            out["$ref"] = V2_PREFIX + value[0]["$ref"].removeprefix(V3_PREFIX)
        elif key in ("nullable", "oneOf", "anyOf", "not"):
            continue
        elif key == "properties":
            out[key] = {name: to_v2(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMA and isinstance(value, dict):
            out[key] = to_v2(value)
        elif key == "allOf":
            out[key] = [to_v2(sub) for sub in value]
        else:
            out[key] = value
    return out


@functools.cache
def v3_definition(name: str) -> Schema | None:
    """A built-in definition as a v3 component schema, or None if there is none."""
    if name in _V3_OVERRIDES:
        return _V3_OVERRIDES[name]
    source = definitions.definitions().get(name)
    return None if source is None else _from_source(source)


@functools.cache
def v2_definition(name: str) -> Schema | None:
    """A built-in definition as a Swagger 2.0 definition, or None if there is none."""
    if name in _V2_OVERRIDES:
        return _V2_OVERRIDES[name]
    converted = v3_definition(name)
    return None if converted is None else to_v2(converted)


def _collect_refs(node: Any, into: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                into.add(value.removeprefix(V3_PREFIX))
            else:
                _collect_refs(value, into)
    elif isinstance(node, list):
        for item in node:
            _collect_refs(item, into)


@functools.cache
def _builtin_refs(name: str) -> frozenset[str]:
    found: set[str] = set()
    _collect_refs(v3_definition(name), found)
    return frozenset(found)


def custom_definition_name(group: str, version: str, kind: str) -> str:
    """kube-apiserver's name for a custom kind: the group reversed, then version and kind
    (`stable.example.com/v1 CronTab` → `com.example.stable.v1.CronTab`)."""
    return ".".join([*reversed(group.split(".")), version, kind])


def custom_resource_schemas(
    info: ResourceInfo, openapi_v3_schema: Schema | None
) -> dict[str, Schema]:
    """The v3 component schemas of a custom resource and of its list, by name.

    `openapi_v3_schema` is the version's `schema.openAPIV3Schema` (copied, never kept);
    None publishes an object that preserves unknown fields. As kube-apiserver does,
    `apiVersion`, `kind` and `metadata` (an ObjectMeta) are set on the top level.
    """
    name = custom_definition_name(info.group, info.version, info.kind)
    body: Schema = copy.deepcopy(openapi_v3_schema) if openapi_v3_schema else {}
    if not openapi_v3_schema:
        body["x-kubernetes-preserve-unknown-fields"] = True
    body["properties"] = {**(body.get("properties") or {}), **_type_meta(OBJECT_META)}
    body["type"] = "object"
    body["x-kubernetes-group-version-kind"] = [_gvk(info, info.kind)]
    items = {
        "description": f"List of {info.plural}. More info: "
        "https://git.k8s.io/community/contributors/devel/api-conventions.md",
        "items": {"$ref": V3_PREFIX + name},
        "type": "array",
    }
    listing: Schema = {
        "description": f"{info.list_kind} is a list of {info.kind}",
        "properties": {**_type_meta(LIST_META), "items": items},
        "required": ["items"],
        "type": "object",
        "x-kubernetes-group-version-kind": [_gvk(info, info.list_kind)],
    }
    return {name: body, name + "List": listing}


def _type_meta(meta: str) -> Schema:
    text = _METADATA_TEXT if meta == OBJECT_META else _LIST_METADATA_TEXT
    return {
        "apiVersion": {"description": _API_VERSION_TEXT, "type": "string"},
        "kind": {"description": _KIND_TEXT, "type": "string"},
        "metadata": {"allOf": [{"$ref": V3_PREFIX + meta}], "description": text},
    }


def _gvk(info: ResourceInfo, kind: str) -> dict[str, str]:
    return {"group": info.group, "kind": kind, "version": info.version}


class SchemaCatalog:
    """Every schema the documents may publish: the built-ins plus custom resources'.

    `generation` grows on every registration change, so caches of documents can key on
    it. `prepare` gives a kind that is neither built-in nor registered (a resource served
    before its schema is known) a schema preserving unknown fields.
    """

    def __init__(self) -> None:
        self.generation = 0
        self._custom: dict[tuple[str, str, str], dict[str, Schema]] = {}
        self._fallbacks: dict[tuple[str, str, str], dict[str, Schema]] = {}
        self._names: dict[tuple[str, str, str], str] = {}
        self._schemas: dict[str, Schema] = {}

    def set_custom_resource(self, info: ResourceInfo, openapi_v3_schema: Schema | None) -> None:
        """Publishes (or replaces) a custom resource's schema. Idempotent."""
        self.remove_custom_resource(info.group, info.version, info.kind)
        key = (info.group, info.version, info.kind)
        self._custom[key] = custom_resource_schemas(info, openapi_v3_schema)
        self._reindex(bump=True)

    def remove_custom_resource(self, group: str, version: str, kind: str) -> None:
        """Forgets a custom resource's schema; a no-op if it has none."""
        if self._custom.pop((group, version, kind), None) is not None:
            self._reindex(bump=True)

    def prepare(self, info: ResourceInfo) -> None:
        """Makes sure `info`'s kind has a schema, publishing a fallback if needed."""
        key = (info.group, info.version, info.kind)
        if key in self._custom or definitions.definition_name(*key) is not None:
            return
        fallback = custom_resource_schemas(info, None)
        if self._fallbacks.get(key) != fallback:
            # Derived from `info` alone: documents keyed on the table need no new generation.
            self._fallbacks[key] = fallback
            self._reindex(bump=False)

    def is_custom(self, info: ResourceInfo) -> bool:
        key = (info.group, info.version, info.kind)
        return key in self._custom or key in self._fallbacks

    def definition_name(self, group: str, version: str, kind: str) -> str | None:
        """The name of a kind's schema (custom first, then built-in), or None."""
        key = (group, version, kind)
        return self._names.get(key) or definitions.definition_name(*key)

    def v3(self, name: str) -> Schema | None:
        """A v3 component schema by name, or None."""
        found = self._schemas.get(name)
        return v3_definition(name) if found is None else found

    def v2(self, name: str) -> Schema | None:
        """A Swagger 2.0 definition by name, or None."""
        found = self._schemas.get(name)
        return v2_definition(name) if found is None else to_v2(found)

    def closure(self, roots: Iterable[str]) -> list[str]:
        """`roots` and every definition they reference, transitively, sorted by name."""
        seen: set[str] = set()
        pending = list(roots)
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            found = self._schemas.get(name)
            if found is not None:
                refs: set[str] = set()
                _collect_refs(found, refs)
            elif v3_definition(name) is not None:
                refs = set(_builtin_refs(name))
            else:
                continue
            seen.add(name)
            pending.extend(refs - seen)
        return sorted(seen)

    def _reindex(self, bump: bool) -> None:
        self.generation += bump
        self._names.clear()
        self._schemas.clear()
        for (group, version, kind), schemas in (self._fallbacks | self._custom).items():
            name = custom_definition_name(group, version, kind)
            self._names[(group, version, kind)] = name
            self._names[(group, version, kind + "List")] = name + "List"
            self._schemas.update(schemas)
