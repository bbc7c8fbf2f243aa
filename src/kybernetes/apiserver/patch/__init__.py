"""PATCH bodies: the patch types kube-apiserver accepts, and the three it applies by
merging (server-side apply is implemented elsewhere).

- `patch_type(content_type, schema)`: the patch type a PATCH request's Content-Type
  names (parameters such as "; charset=utf-8" dropped), or 415 UnsupportedMediaType
  listing the types the resource accepts. Custom resources (an untyped schema, or
  none) accept no strategic merge patch, exactly as kube-apiserver lists them.
- `apply_patch(content_type, original, body, schema)`: the object `original` becomes
  under a JSON patch (`jsonpatch`), a JSON merge patch (`mergepatch`) or a strategic
  merge patch (`strategic`).

The body is decoded here, as Go's `encoding/json` does: it accepts the same documents
and words syntax errors like Go's scanner ("invalid character 'x' looking for
beginning of value", "unexpected end of JSON input"), which clients match on. A body
that does not decode, or nests deeper than the server stores objects (`nesting`), is
400 BadRequest, prefixed "error decoding patch: " for JSON and merge patches
(kube-apiserver's wording for each).

Invariants: `original` is never mutated, and the result shares no mutable value with
it. Every failure is a `StatusError` with kube-apiserver's code and wording (see each
module). The result is not validated or defaulted here: the caller decodes it as it
would a PUT body. Pure functions; safe in threads.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kybernetes.api.godecode import describe
from kybernetes.api.schemanode import SchemaNode
from kybernetes.apiserver.nesting import nesting_error
from kybernetes.apiserver.status import bad_request, unsupported_media_type

from . import jsonpatch, mergepatch, strategic
from .mergepatch import DECODE_PREFIX, go_quote

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

BUILTIN_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)
CUSTOM_RESOURCE_PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)

__all__ = [
    "APPLY_PATCH",
    "BUILTIN_PATCH_TYPES",
    "CUSTOM_RESOURCE_PATCH_TYPES",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "apply_patch",
    "patch_type",
]

_MAX_DEPTH = 10000  # Go's encoding/json nesting limit
_WHITESPACE = b" \t\n\r"
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = frozenset(b'bfnrt\\/"')
_CLOSERS = {0x7B: 0x7D, 0x5B: 0x5D}  # opening byte -> closing byte: { } [ ]
_LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def patch_type(content_type: str, schema: SchemaNode | None) -> str:
    """The patch type named by a PATCH request's Content-Type header for a resource
    whose root schema node is `schema` (built-in kinds have a typed one).

    Raises 415 UnsupportedMediaType listing the accepted types otherwise. As
    kube-apiserver does, only a ";" after the media type starts parameters; no case
    folding or trimming."""
    semicolon = content_type.find(";")
    media_type = content_type[:semicolon] if semicolon > 0 else content_type
    custom = schema is None or not schema.typed
    accepted = CUSTOM_RESOURCE_PATCH_TYPES if custom else BUILTIN_PATCH_TYPES
    if media_type not in accepted:
        raise unsupported_media_type(accepted)
    return media_type


def apply_patch(
    content_type: str, original: dict[str, Any], patch_body: bytes, schema: SchemaNode | None
) -> dict[str, Any]:
    """The new object: `original` patched by `patch_body`, whose type the Content-Type
    `content_type` names (see `patch_type`).

    `schema` is the root node of the object's kind: typed for built-ins (strategic merge
    patch follows its patch metadata), untyped or None for custom resources.
    Raises StatusError (400, 413, 415, 422, 500 as kube-apiserver answers; see the
    modules) and ValueError for server-side apply, which the caller must route to the
    field manager instead."""
    kind = patch_type(content_type, schema)
    if kind == JSON_PATCH:
        return jsonpatch.apply(original, _decode(patch_body, DECODE_PREFIX))
    if kind == MERGE_PATCH:
        return mergepatch.apply(original, _decode_object(patch_body, DECODE_PREFIX))
    if kind == STRATEGIC_MERGE_PATCH and schema is not None:
        return strategic.apply(original, _decode_object(patch_body, ""), schema)
    raise ValueError(f"{kind} is server-side apply, not a merge patch")


def _decode(body: bytes, prefix: str) -> Any:
    """The JSON value of `body` as Go decodes it (invalid UTF-8 and unpaired surrogate
    escapes in strings become U+FFFD; NaN and Infinity are syntax errors), or 400
    BadRequest with Go's message after `prefix`."""
    try:
        value = json.loads(body.decode("utf-8", "replace"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise bad_request(prefix + (_syntax_error(body) or str(e))) from None
    nesting = nesting_error(value)
    if nesting is not None:
        raise bad_request(prefix + nesting)
    if _LONE_SURROGATE_ESCAPE.search(body):
        value = _scrub_surrogates(value)
    return value


def _decode_object(body: bytes, prefix: str) -> dict[str, Any] | None:
    """`body` decoded into Go's `map[string]interface {}` (None for `null`)."""
    value = _decode(body, prefix)
    if value is not None and not isinstance(value, dict):
        raise bad_request(
            f"{prefix}json: cannot unmarshal {describe(value)} into Go value of type "
            "map[string]interface {}"
        )
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _scrub_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_scrub_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_scrub_surrogates(k): _scrub_surrogates(v) for k, v in value.items()}
    return value


class _Invalid(Exception):
    def __init__(self, char: int, context: str) -> None:
        super().__init__(f"invalid character {_quote_char(char)} {context}")


class _End(Exception):
    pass


def _quote_char(char: int) -> str:
    if char == 0x27:
        return "'\\''"
    if char == 0x22:
        return "'\"'"
    return "'" + go_quote(chr(char))[1:-1] + "'"


def _syntax_error(body: bytes) -> str | None:
    """Go's message for the first syntax error in `body`, or None if Go accepts it.
    Mirrors encoding/json's scanner, which ends the input by stepping one space."""
    data = body + b" "
    stack = bytearray()
    i = 0
    try:
        while True:
            i = _skip(data, i)
            char = _char(data, i)
            if char in _CLOSERS:
                if len(stack) >= _MAX_DEPTH:
                    raise _Invalid(char, "exceeded max depth")
                stack.append(char)
                i = _skip(data, i + 1)
                if _char(data, i) != _CLOSERS[char]:
                    if char == 0x7B:
                        i = _key(data, i)
                    continue
                stack.pop()
                i += 1
            else:
                i = _scalar(data, i, char)
            while True:  # a value ended at i: close containers until one goes on
                i = _skip(data, i)
                if not stack:
                    if i < len(data):
                        raise _Invalid(data[i], "after top-level value")
                    return None
                char, top = _char(data, i), stack[-1]
                if char == 0x2C:  # ,
                    i = _skip(data, i + 1)
                    if top == 0x7B:
                        i = _key(data, i)
                    break
                if char != _CLOSERS[top]:
                    context = (
                        "after object key:value pair" if top == 0x7B else "after array element"
                    )
                    raise _Invalid(char, context)
                stack.pop()
                i += 1
    except _End:
        return "unexpected end of JSON input"
    except _Invalid as e:
        return str(e)


def _char(data: bytes, i: int) -> int:
    if i >= len(data):
        raise _End
    return data[i]


def _skip(data: bytes, i: int) -> int:
    while i < len(data) and data[i] in _WHITESPACE:
        i += 1
    return i


def _digits(data: bytes, i: int) -> int:
    while i < len(data) and 0x30 <= data[i] <= 0x39:
        i += 1
    return i


def _key(data: bytes, i: int) -> int:
    """Scans `"key":` from i; returns the index after the colon."""
    char = _char(data, i)
    if char != 0x22:
        raise _Invalid(char, "looking for beginning of object key string")
    i = _skip(data, _string(data, i + 1))
    char = _char(data, i)
    if char != 0x3A:
        raise _Invalid(char, "after object key")
    return i + 1


def _scalar(data: bytes, i: int, char: int) -> int:
    if char == 0x22:
        return _string(data, i + 1)
    if char == 0x2D or 0x30 <= char <= 0x39:
        return _number(data, i)
    for word in (b"true", b"false", b"null"):
        if char == word[0]:
            for offset in range(1, len(word)):
                char = _char(data, i + offset)
                if char != word[offset]:
                    expecting = _quote_char(word[offset])
                    raise _Invalid(char, f"in literal {word.decode()} (expecting {expecting})")
            return i + len(word)
    raise _Invalid(char, "looking for beginning of value")


def _string(data: bytes, i: int) -> int:
    """Scans a string body from i (after the opening quote); returns the index after it."""
    while True:
        char = _char(data, i)
        i += 1
        if char == 0x22:
            return i
        if char == 0x5C:
            char = _char(data, i)
            i += 1
            if char == 0x75:  # u
                for _ in range(4):
                    char = _char(data, i)
                    i += 1
                    if char not in _HEX:
                        raise _Invalid(char, "in \\u hexadecimal character escape")
            elif char not in _ESCAPES:
                raise _Invalid(char, "in string escape code")
        elif char < 0x20:
            raise _Invalid(char, "in string literal")


def _number(data: bytes, i: int) -> int:
    if data[i] == 0x2D:
        i += 1
        char = _char(data, i)
        if not 0x30 <= char <= 0x39:
            raise _Invalid(char, "in numeric literal")
    i = i + 1 if data[i] == 0x30 else _digits(data, i)
    if data[i] == 0x2E:  # . (the trailing space guarantees data[i] exists)
        char = _char(data, i + 1)
        if not 0x30 <= char <= 0x39:
            raise _Invalid(char, "after decimal point in numeric literal")
        i = _digits(data, i + 1)
    if data[i] in b"eE":
        i += 1
        if data[i] in b"+-":
            i += 1
        char = _char(data, i)
        if not 0x30 <= char <= 0x39:
            raise _Invalid(char, "in exponent of numeric literal")
        i = _digits(data, i)
    return i
