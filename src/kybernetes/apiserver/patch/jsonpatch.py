"""JSON patch (RFC 6902), as kube-apiserver applies it.

Built on the `jsonpatch` library, with the operations adjusted to what kube-apiserver's
evanphx/json-patch v4 does where it departs from the RFC:
- `replace` of an absent object member adds it; `replace` of the whole document (path
  "") takes an object or an array only;
- `add`, `move` and `copy` cannot target the whole document;
- `copy` from an absent object member copies null;
- a missing `value` is null; `test` of an absent member or a null passes only for a
  null (or missing) value; values compare as JSON, 1 and 1.0 or 1 and true differ.

Errors, in kube-apiserver's order: 400 BadRequest "error decoding patch: ..." for a
body that is not an array of operation objects (Go's decoder wording), 413 for more
than 10000 operations, then 422 "the server rejected our request due to an error in our
request" (no details) for any operation that fails; 422 Invalid on field "patch" if
the result is not an object.

Invariants: `apply` never mutates the object it is given. Pure; safe in threads.
"""

from __future__ import annotations

import copy
import json
from types import MappingProxyType
from typing import Any

import jsonpatch
from jsonpointer import JsonPointer, JsonPointerException

from kybernetes.api.godecode import describe
from kybernetes.apiserver.status import StatusCause, bad_request, invalid, too_large

from .mergepatch import DECODE_PREFIX, go_equal, go_quote, rejected

MAX_OPERATIONS = 10000
_OPERATION = "handlers.jsonPatchOp"  # the Go struct kube-apiserver decodes each into
_STRING_FIELDS = ("op", "path", "from")
_NOT_AN_OBJECT = (
    "couldn't get version/kind; json parse error: json: cannot unmarshal array into Go "
    'value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
    'Kind string "json:\\"kind,omitempty\\"" }'
)


def apply(original: dict[str, Any], operations: Any) -> dict[str, Any]:
    """Applies the decoded JSON patch `operations` to a copy of `original` (see the
    module docstring)."""
    error = _decode_error(operations)
    if error:
        raise bad_request(DECODE_PREFIX + error)
    operations = operations or []
    if len(operations) > MAX_OPERATIONS:
        raise too_large(
            f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, "
            f"got {len(operations)}"
        )
    try:
        result = _KubeJsonPatch(operations).apply(original)
    except (jsonpatch.JsonPatchException, JsonPointerException) as e:
        raise rejected() from e
    if not isinstance(result, dict):
        value = go_quote(json.dumps(result, separators=(",", ":"), ensure_ascii=False))
        cause = StatusCause(
            "FieldValueInvalid", f"Invalid value: {value}: {_NOT_AN_OBJECT}", "patch"
        )
        raise invalid("", "", [cause])
    return result


def _decode_error(operations: Any) -> str | None:
    """What Go says decoding `operations` into `[]handlers.jsonPatchOp`, if it fails."""
    if operations is None:
        return None
    if not isinstance(operations, list):
        return f"json: cannot unmarshal {describe(operations)} into Go value of type []{_OPERATION}"
    for operation in operations:
        if operation is None:
            continue
        if not isinstance(operation, dict):
            return (
                f"json: cannot unmarshal {describe(operation)} into Go value of type {_OPERATION}"
            )
        for field, value in operation.items():
            if field in _STRING_FIELDS and not isinstance(value, str | None):
                return (
                    f"json: cannot unmarshal {describe(value)} into Go struct field "
                    f"jsonPatchOp.{field} of type string"
                )
    return None


def _whole_document() -> jsonpatch.JsonPatchConflict:
    return jsonpatch.JsonPatchConflict("the operation cannot apply to the whole document")


class _Add(jsonpatch.AddOperation):
    def apply(self, obj: Any) -> Any:
        if self.location == "":
            raise _whole_document()
        self.operation.setdefault("value", None)
        return super().apply(obj)


class _Replace(jsonpatch.ReplaceOperation):
    def apply(self, obj: Any) -> Any:
        value = copy.deepcopy(self.operation.setdefault("value", None))
        if self.location == "":
            if not isinstance(value, dict | list):
                raise jsonpatch.JsonPatchConflict("replace operation value must be object or array")
            return value
        parent, key = self.pointer.to_last(obj)
        if isinstance(parent, dict) and key not in parent:
            parent[key] = value
            return obj
        return super().apply(obj)


class _Move(jsonpatch.MoveOperation):
    def apply(self, obj: Any) -> Any:
        if "" in (self.location, self.operation.get("from")):
            raise _whole_document()
        return super().apply(obj)


class _Copy(jsonpatch.CopyOperation):
    def apply(self, obj: Any) -> Any:
        source = self.operation.get("from")
        if "" in (self.location, source):
            raise _whole_document()
        if isinstance(source, str):
            parent, key = JsonPointer(source).to_last(obj)
            if isinstance(parent, dict) and key not in parent:
                return _Add({"op": "add", "path": self.location, "value": None}).apply(obj)
        return super().apply(obj)


class _Test(jsonpatch.TestOperation):
    def apply(self, obj: Any) -> Any:
        expected = self.operation.get("value")
        if self.location == "":
            actual = obj
        else:
            parent, key = self.pointer.to_last(obj)
            if isinstance(parent, dict):
                actual = parent.get(key)
            elif isinstance(key, int):
                actual = self.pointer.walk(parent, key)
            else:
                raise JsonPointerException(f"invalid array index {key!r}")
        if actual is None and self.location != "":
            passed = expected is None
        else:
            passed = "value" in self.operation and _equal(actual, expected)
        if not passed:
            raise jsonpatch.JsonPatchTestFailed(f"testing value {self.location} failed")
        return obj


def _equal(actual: Any, expected: Any) -> bool:
    """evanphx's lazyNode.equal: JSON equality, where null equals an empty object or
    array (Go decodes null into either)."""
    if isinstance(actual, dict):
        if expected is None:
            return not actual
        return (
            isinstance(expected, dict)
            and len(actual) == len(expected)
            and all(k in expected and _equal_member(v, expected[k]) for k, v in actual.items())
        )
    if isinstance(actual, list):
        if expected is None:
            return not actual
        return (
            isinstance(expected, list)
            and len(actual) == len(expected)
            and all(map(_equal_member, actual, expected))
        )
    return go_equal(actual, expected)


def _equal_member(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return _equal(actual, expected)


class _KubeJsonPatch(jsonpatch.JsonPatch):
    operations = MappingProxyType(
        {
            "add": _Add,
            "remove": jsonpatch.RemoveOperation,
            "replace": _Replace,
            "move": _Move,
            "copy": _Copy,
            "test": _Test,
        }
    )
