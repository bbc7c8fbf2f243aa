"""JSON merge patch (RFC 7386), and the vocabulary the other patch types share: the
errors of apimachinery's `util/mergepatch` package and Go's view of decoded JSON values
(its %v and %q, reflect type names, == on interface values, and the list helpers of
strategicpatch that rest on them).

kube-apiserver applies a merge patch with evanphx/json-patch v4 (`MergePatch`), which
differs from the RFC in one corner: a value the patch adds (the field is absent or null
in the object, or the object's value is not an object) has its nulls pruned at every
depth, including inside the objects of an array. An array that replaces an object is
taken as it is.

Invariants: pure functions; `apply` never mutates the object it is given (it returns a
new one that shares nothing with it); values of the decoded patch are moved into the
result, so a decoded patch is applied once.
"""

from __future__ import annotations

import copy
import decimal
from typing import Any

from kybernetes.apiserver.status import StatusError, bad_request

# Messages of apimachinery's mergepatch errors, answered 400 by the patch handler.
ERR_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
ERR_BAD_JSON_PATCH = "Invalid JSON Patch"  # evanphx's ErrBadJSONPatch: a `null` merge patch
DECODE_PREFIX = "error decoding patch: "

_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}
_GO_TYPES = {
    dict: "map[string]interface {}",
    list: "[]interface {}",
    str: "string",
    int: "int64",
    float: "float64",
    bool: "bool",
}


def apply(original: dict[str, Any], patch: dict[str, Any] | None) -> dict[str, Any]:
    """Applies the decoded merge patch `patch` to a copy of `original` (see the module
    docstring). A `null` patch is 400 BadRequest "Invalid JSON Patch"."""
    if patch is None:
        raise bad_request(ERR_BAD_JSON_PATCH)
    result = copy.deepcopy(original)
    _merge_objects(result, patch)
    return result


def _merge_objects(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        current = target.get(key)
        if value is None:
            target.pop(key, None)
        elif isinstance(current, dict) and isinstance(value, dict):
            _merge_objects(current, value)
        elif isinstance(current, dict):
            target[key] = value
        else:
            target[key] = prune_nulls(value)


def prune_nulls(value: Any) -> Any:
    """`value` without null object members, at every depth (array items stay)."""
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for item in value.values():
            prune_nulls(item)
    elif isinstance(value, list):
        for item in value:
            prune_nulls(item)
    return value


def rejected() -> StatusError:
    """422 as `NewGenericServerResponse(422, ...)`: how kube-apiserver answers a JSON
    patch that does not apply, or a strategic patch with a list of lists."""
    message = "the server rejected our request due to an error in our request"
    return StatusError(422, "Invalid", message, {})


def server_error(message: str) -> StatusError:
    """500 with no reason: kube-apiserver's answer to an error that is not a Status,
    such as most of strategicpatch's."""
    return StatusError(500, "", message)


def no_merge_key(item: dict[str, Any], merge_key: str) -> StatusError:
    return server_error(f"map: {go_format(item)} does not contain declared merge key: {merge_key}")


def bad_arg_type(expected: str, actual: Any) -> StatusError:
    """`expected` is a Go type name, e.g. "map[string]interface {}"."""
    return server_error(f"expected a {expected}, but received a {go_type(actual)}")


def bad_patch_type(directive: Any, item: dict[str, Any]) -> StatusError:
    return server_error(
        f"unknown patch type: {go_format(directive, 's')} in map: {go_format(item)}"
    )


def element_type(*lists: list[Any]) -> type:
    """strategicpatch's `sliceElementType`: the one type of all the elements of `lists`
    (422 for a list of lists, 500 for mixed types or no elements at all)."""
    types = {type(item) for items in lists for item in items}
    first = next((type(item) for items in lists for item in items), None)
    if first is list:
        raise rejected()  # mergepatch.ErrNoListOfLists
    if first is None:
        raise server_error("no elements in any of the given slices")
    if len(types) > 1:
        raise server_error(f"list element types are not identical: {go_format(list(lists))}")
    return first


def deduplicate_scalars(items: list[Any]) -> list[Any]:
    """strategicpatch's `deduplicateScalars` (Go's ==), in place, including its order:
    each duplicate's place takes the last element."""
    last, i = len(items) - 1, 0
    while i < last:
        j = i + 1
        while j <= last:
            if go_equal(items[i], items[j]):
                items[j] = items[last]
                del items[last]
                last -= 1
                j -= 1
            j += 1
        i += 1
    return items


def go_type(value: Any) -> str:
    """`reflect.TypeOf(value)` printed with %s, for a value decoded from JSON."""
    return "%!s(<nil>)" if value is None else _GO_TYPES[type(value)]


def go_equal(left: Any, right: Any) -> bool:
    """Go's == on interface values holding decoded JSON: same type and value. Go panics
    on maps and slices; here they are never equal."""
    if isinstance(left, dict | list):
        return False
    return type(left) is type(right) and left == right


def go_key(value: Any) -> tuple[type, Any]:
    """A set key that tells values apart as a Go map[interface{}]bool does (1, 1.0 and
    true differ); maps and slices by identity."""
    return (type(value), id(value) if isinstance(value, dict | list) else value)


def go_format(value: Any, verb: str = "v") -> str:
    """Go's fmt %v (or %s) of a value decoded from JSON: `map[a:1 b:[x y]]`."""
    if isinstance(value, dict):
        members = (f"{go_format(k, verb)}:{go_format(value[k], verb)}" for k in sorted(value))
        return "map[" + " ".join(members) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(item, verb) for item in value) + "]"
    if isinstance(value, str):
        return value
    if value is None:
        return "%!s(<nil>)" if verb == "s" else "<nil>"
    text = "true" if value is True else "false" if value is False else _go_number(value)
    return f"%!s({go_type(value)}={text})" if verb == "s" else text


def _go_number(value: int | float) -> str:
    if isinstance(value, int) or value == 0:
        return str(int(value))
    sign, digits, exponent = decimal.Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0")
    assert isinstance(exponent, int)
    point = len(digits) + exponent  # digits before the decimal point
    minus = "-" if sign else ""
    if point - 1 < -4 or point - 1 >= 6:  # %g with the shortest precision
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{point - 1:+03d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    whole, fraction = text[:point].ljust(point, "0"), text[point:]
    return minus + whole + ("." + fraction if fraction else "")


def go_quote(text: str) -> str:
    """Go's strconv.Quote (%q)."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'
