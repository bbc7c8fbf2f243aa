"""Swagger 2.0 as gnostic's `openapi.v2.Document` protobuf.

client-go's `OpenAPISchema()` (kubectl's v2 fallbacks, `kubectl explain
--output=plaintext-openapiv2`) only reads `/openapi/v2` in this encoding. A hand-written
encoder of the subset the API's document uses (field numbers from gnostic's
OpenAPIv2.proto): document, info, paths and operations, inline parameters, responses,
definitions and the API-key security scheme. Values gnostic keeps as YAML (`default`,
`enum`, `example`, vendor extensions) are written as JSON, which is YAML too. As in
proto3, empty strings, false and zero are omitted; keys the subset does not know are
dropped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

Encoder = Callable[[int, Any], bytes]


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s take ten bytes, as in protobuf
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _string(number: int, value: Any) -> bytes:
    return _length_delimited(number, str(value).encode()) if value else b""


def _strings(number: int, values: Sequence[Any]) -> bytes:
    return b"".join(_length_delimited(number, str(v).encode()) for v in values)


def _bool(number: int, value: Any) -> bytes:
    return _varint(number << 3) + b"\x01" if value is True else b""


def _double(number: int, value: Any) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", float(value)) if value else b""


def _int64(number: int, value: Any) -> bytes:
    return _varint(number << 3) + _varint(int(value)) if value else b""


def _yaml(value: Any) -> bytes:
    """gnostic's `Any`: the value as YAML text (field 2)."""
    return _string(2, orjson.dumps(value).decode())


def _any(number: int, value: Any) -> bytes:
    return _length_delimited(number, _yaml(value))


def _anys(number: int, values: Sequence[Any]) -> bytes:
    return b"".join(_any(number, v) for v in values)


def _message(encode: Callable[[Any], bytes]) -> Encoder:
    return lambda number, value: _length_delimited(number, encode(value))


def _messages(encode: Callable[[Any], bytes]) -> Encoder:
    return lambda number, values: b"".join(_length_delimited(number, encode(v)) for v in values)


def _named(encode_value: Callable[[Any], bytes]) -> Encoder:
    """A map as gnostic's repeated `Named*` (name = 1, value = 2), in document order."""

    def encode(number: int, mapping: Mapping[str, Any]) -> bytes:
        return b"".join(
            _length_delimited(number, _string(1, k) + _length_delimited(2, encode_value(v)))
            for k, v in mapping.items()
        )

    return encode


def _fields(
    obj: Mapping[str, Any], spec: Sequence[tuple[str, int, Encoder]], extensions: int = 0
) -> bytes:
    """`obj`'s known keys in field-number order, then its `x-` keys as NamedAny."""
    out = b"".join(encode(number, obj[key]) for key, number, encode in spec if key in obj)
    if extensions:
        vendor = {k: v for k, v in obj.items() if k.startswith("x-")}
        out += _named(_yaml)(extensions, vendor)
    return out


def _schema(obj: Mapping[str, Any]) -> bytes:
    return _fields(obj, _SCHEMA, 31)


def _additional_properties(value: Any) -> bytes:
    """An AdditionalPropertiesItem: a schema, or a boolean (set even when false: oneof)."""
    if isinstance(value, bool):
        return _varint(2 << 3) + (b"\x01" if value else b"\x00")
    return _message(_schema)(1, value)


def _items(value: Any) -> bytes:
    return _messages(_schema)(1, value if isinstance(value, list) else [value])


def _type(value: Any) -> bytes:
    return _strings(1, value if isinstance(value, list) else [value])


_SCHEMA: Sequence[tuple[str, int, Encoder]] = (
    ("$ref", 1, _string),
    ("format", 2, _string),
    ("title", 3, _string),
    ("description", 4, _string),
    ("default", 5, _any),
    ("multipleOf", 6, _double),
    ("maximum", 7, _double),
    ("exclusiveMaximum", 8, _bool),
    ("minimum", 9, _double),
    ("exclusiveMinimum", 10, _bool),
    ("maxLength", 11, _int64),
    ("minLength", 12, _int64),
    ("pattern", 13, _string),
    ("maxItems", 14, _int64),
    ("minItems", 15, _int64),
    ("uniqueItems", 16, _bool),
    ("maxProperties", 17, _int64),
    ("minProperties", 18, _int64),
    ("required", 19, _strings),
    ("enum", 20, _anys),
    ("additionalProperties", 21, _message(_additional_properties)),
    ("type", 22, _message(_type)),
    ("items", 23, _message(_items)),
    ("allOf", 24, _messages(_schema)),
    ("properties", 25, _message(lambda props: _named(_schema)(1, props))),
    ("readOnly", 27, _bool),
    ("example", 30, _any),
)
_BODY_PARAMETER: Sequence[tuple[str, int, Encoder]] = (
    ("description", 1, _string),
    ("name", 2, _string),
    ("in", 3, _string),
    ("required", 4, _bool),
    ("schema", 5, _message(_schema)),
)
_SIMPLE_PARAMETER: Sequence[tuple[str, int, Encoder]] = (
    ("required", 1, _bool),
    ("in", 2, _string),
    ("description", 3, _string),
    ("name", 4, _string),
)


def _parameter(obj: Mapping[str, Any]) -> bytes:
    """A ParametersItem: a `$ref` or a body, query or path parameter."""
    if "$ref" in obj:
        return _length_delimited(2, _string(1, obj["$ref"]))
    location = obj.get("in")
    if location == "body":
        parameter = _length_delimited(1, _fields(obj, _BODY_PARAMETER, 6))
    else:
        # QueryParameterSubSchema (3) has allowEmptyValue at 5, so its later fields are one
        # further than PathParameterSubSchema's (4).
        shift, which = (1, 3) if location == "query" else (0, 4)
        spec = (
            *_SIMPLE_PARAMETER,
            ("type", 5 + shift, _string),
            ("format", 6 + shift, _string),
            ("uniqueItems", 19 + shift, _bool),
            ("enum", 20 + shift, _anys),
        )
        sub = _length_delimited(which, _fields(obj, spec, 22 + shift))
        parameter = _length_delimited(2, sub)
    return _length_delimited(1, parameter)


def _response(obj: Mapping[str, Any]) -> bytes:
    """A ResponseValue holding a Response, whose schema is a SchemaItem (schema = 1)."""
    response = _string(1, obj.get("description"))
    if "schema" in obj:
        response += _length_delimited(2, _message(_schema)(1, obj["schema"]))
    return _length_delimited(1, response + _fields(obj, (), 5))


_OPERATION: Sequence[tuple[str, int, Encoder]] = (
    ("tags", 1, _strings),
    ("summary", 2, _string),
    ("description", 3, _string),
    ("operationId", 5, _string),
    ("produces", 6, _strings),
    ("consumes", 7, _strings),
    ("parameters", 8, _messages(_parameter)),
    ("responses", 9, _message(lambda codes: _named(_response)(1, codes))),
    ("schemes", 10, _strings),
    ("deprecated", 11, _bool),
)


def _operation(obj: Mapping[str, Any]) -> bytes:
    return _fields(obj, _OPERATION, 13)


_PATH_ITEM: Sequence[tuple[str, int, Encoder]] = (
    ("get", 2, _message(_operation)),
    ("put", 3, _message(_operation)),
    ("post", 4, _message(_operation)),
    ("delete", 5, _message(_operation)),
    ("options", 6, _message(_operation)),
    ("head", 7, _message(_operation)),
    ("patch", 8, _message(_operation)),
    ("parameters", 9, _messages(_parameter)),
)


_API_KEY_SECURITY: Sequence[tuple[str, int, Encoder]] = (
    ("type", 1, _string),
    ("name", 2, _string),
    ("in", 3, _string),
    ("description", 4, _string),
)
_INFO: Sequence[tuple[str, int, Encoder]] = (
    ("title", 1, _string),
    ("version", 2, _string),
    ("description", 3, _string),
)


def _security_scheme(obj: Mapping[str, Any]) -> bytes:
    """A SecurityDefinitionsItem holding an ApiKeySecurity (the only kind served)."""
    return _length_delimited(2, _fields(obj, _API_KEY_SECURITY, 5))


def _security_requirement(obj: Mapping[str, Sequence[str]]) -> bytes:
    return _named(lambda scopes: _strings(1, scopes))(1, obj)


_DOCUMENT: Sequence[tuple[str, int, Encoder]] = (
    ("swagger", 1, _string),
    ("info", 2, _message(lambda info: _fields(info, _INFO, 7))),
    ("host", 3, _string),
    ("basePath", 4, _string),
    ("schemes", 5, _strings),
    ("consumes", 6, _strings),
    ("produces", 7, _strings),
    ("paths", 8, _message(lambda paths: _named(lambda p: _fields(p, _PATH_ITEM, 10))(2, paths))),
    ("definitions", 9, _message(lambda defs: _named(_schema)(1, defs))),
    ("security", 12, _messages(_security_requirement)),
    ("securityDefinitions", 13, _message(lambda defs: _named(_security_scheme)(1, defs))),
)


def encode_document(document: Mapping[str, Any]) -> bytes:
    """A Swagger 2.0 document (as JSON data) as an `openapi.v2.Document` message."""
    return _fields(document, _DOCUMENT, 16)
