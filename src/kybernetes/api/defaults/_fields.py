"""Field access with Go's zero-value semantics, the vocabulary every defaulter uses.

kube-apiserver defaults a typed Go struct decoded from JSON; kybernetes defaults the
decoded JSON dict itself. These helpers translate the Go tests a defaulter makes:

- a *pointer* field is unset when its key is absent or null (`set_if_absent`);
- a *value* field (string, number, slice, map) is unset when it also holds its zero
  value: `""`, `0`, `[]`, `{}` (`set_if_zero`);
- a non-pointer *struct* field always exists in Go, so defaulting inside it first
  creates it (`struct`, also used where a defaulter allocates a nil pointer); a
  pointer struct is otherwise only entered when present (`child`).

Invariants: helpers never raise on ill-typed input (a string where an object belongs,
say): they skip what they cannot interpret and leave it for validation. Defaults are
built fresh on every call, so no two objects ever share a mutable default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import ROUND_UP, Context, Decimal
from typing import Any

from kybernetes.api.quantity import Quantity, QuantityError, quantity_from_json

JSONObject = dict[str, Any]
Defaulter = Callable[[JSONObject], None]

_MILLI = Decimal("0.001")
_WIDE = Context(prec=1000)  # wide enough that quantizing a quantity never overflows


def is_zero(value: object) -> bool:
    """Whether a decoded JSON value is Go's zero value (or null)."""
    if value is None:
        return True
    if isinstance(value, bool):
        return value is False
    if isinstance(value, str | int | float | list | dict):
        return not value
    return False


def set_if_absent(obj: JSONObject, key: str, value: object) -> None:
    """Defaults a pointer field: sets `value` when `key` is absent or null."""
    if obj.get(key) is None:
        obj[key] = value


def set_if_zero(obj: JSONObject, key: str, value: object) -> None:
    """Defaults a value field: sets `value` when `key` is absent, null or zero."""
    if is_zero(obj.get(key)):
        obj[key] = value


def child(obj: JSONObject, key: str) -> JSONObject | None:
    """A pointer struct field: the object at `key`, or None when unset or ill-typed."""
    value = obj.get(key)
    return value if isinstance(value, dict) else None


def struct(obj: JSONObject, key: str) -> JSONObject | None:
    """A struct defaulting writes into: the object at `key`, created when absent or null.

    For a Go value struct (which always exists) or a pointer struct the defaulter
    allocates when nil. None only when `key` holds something that is not an object.
    """
    value = obj.get(key)
    if value is None:
        value = obj[key] = {}
    return value if isinstance(value, dict) else None


def items(obj: JSONObject | None, key: str) -> Iterator[JSONObject]:
    """The objects of the list at `key` (nothing when `obj` or the list is unset or ill-typed)."""
    value = obj.get(key) if obj is not None else None
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def path(obj: JSONObject | None, *keys: str) -> JSONObject | None:
    """Follows pointer struct fields; None as soon as one is unset."""
    for key in keys:
        if obj is None:
            return None
        obj = child(obj, key)
    return obj


def round_resource_list(obj: JSONObject | None, key: str) -> None:
    """Kubernetes' `SetDefaults_ResourceList`: rounds each quantity up to a multiple of 1m.

    Quantities already exact in thousandths are left exactly as written; only a finer
    one (`0.0001` -> `1m`) is replaced, by the canonical form of its rounded value
    (rounded away from zero, as `RoundUp` does). Unparseable values are left alone.
    """
    resources = child(obj, key) if obj is not None else None
    if resources is None:
        return
    for name, value in resources.items():
        try:
            quantity = quantity_from_json(value)
        except QuantityError:
            continue
        rounded = quantity.decimal.quantize(_MILLI, rounding=ROUND_UP, context=_WIDE)
        if rounded != quantity.decimal:
            resources[name] = str(Quantity(rounded, quantity.format))


def round_requirements(obj: JSONObject | None, key: str) -> None:
    """Rounds the `limits` and `requests` of the `ResourceRequirements` at `key`."""
    requirements = child(obj, key) if obj is not None else None
    round_resource_list(requirements, "limits")
    round_resource_list(requirements, "requests")
