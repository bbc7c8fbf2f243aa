"""Decoding a request's object against its kind's schema: `fieldValidation`.

As kube-apiserver decodes into Go structs, unknown fields are always dropped and a
value of the wrong type fails the request (400 BadRequest, `<Kind> in version "<v>"
cannot be handled as a <Kind>: <Go's message>`). `fieldValidation` decides what an
unknown field does: `Strict` fails the request (400 `strict decoding error: unknown
field "spec.foo"`), `Warn` (the default) answers with a `Warning` header per field,
`Ignore` drops it silently.
"""

from __future__ import annotations

from collections.abc import Mapping

from kybernetes.api.defaults import apply_defaults
from kybernetes.api.schemanode import SchemaNode
from kybernetes.api.structural import check

from . import status
from .nesting import nesting_error
from .registry import Registry
from .stored import Object

_MODES = ("Strict", "Warn", "Ignore")


def field_validation(query: Mapping[str, str]) -> str:
    """The request's fieldValidation mode; 400 for an unknown one."""
    mode = query.get("fieldValidation", "") or "Warn"
    if mode not in _MODES:
        raise status.bad_request(
            f'fieldValidation: Unsupported value: "{mode}": supported values: '
            '"Ignore", "Strict", "Warn"'
        )
    return mode


def decode(registry: Registry, obj: Object, mode: str, *, defaults: bool = True) -> list[str]:
    """Does to `obj`, in place, what kube-apiserver's decoding does: prunes unknown
    fields and (unless `defaults` is False, as for an applied configuration) applies
    the kind's defaults. Returns the warnings to send.

    Raises 400 for a type error, for unknown fields under `Strict`, or for an object
    nested deeper than the server can store (see `nesting`).
    """
    info = registry.info
    error = nesting_error(obj)
    if error is not None:
        raise status.bad_request(
            f'{info.kind} in version "{info.version}" cannot be handled as a {info.kind}: {error}'
        )
    node = registry.schema
    if node is None:
        return []
    warnings = _prune(registry, node, obj, mode)
    if defaults and node.typed:
        apply_defaults(info.group, info.version, info.kind, obj)
    return warnings


def _prune(registry: Registry, node: SchemaNode, obj: Object, mode: str) -> list[str]:
    info = registry.info
    findings = check(obj, node, prune=True)
    if findings.decode_error is not None:
        raise status.bad_request(
            f'{info.kind} in version "{info.version}" cannot be handled as a {info.kind}: '
            f"{findings.decode_error}"
        )
    unknown = findings.unknown_field_messages()
    if unknown and mode == "Strict":
        raise status.bad_request("strict decoding error: " + ", ".join(unknown))
    return unknown if mode == "Warn" else []


def warning_headers(warnings: list[str]) -> list[tuple[str, str]]:
    """`Warning: 299 - "<text>"` headers, as kube-apiserver sends them."""
    escaped = (w.replace("\\", "\\\\").replace('"', '\\"') for w in warnings)
    return [("Warning", f'299 - "{w}"') for w in escaped]
