"""The shared check of every defaulting table: the expected result, idempotence, and
no change to an object that already carries its defaults."""

from __future__ import annotations

import copy
from typing import Any

from kybernetes.api.defaults import apply_defaults

GVK = tuple[str, str, str]


def defaulted(gvk: GVK, obj: dict[str, Any]) -> dict[str, Any]:
    """A defaulted deep copy of `obj`."""
    result = copy.deepcopy(obj)
    apply_defaults(*gvk, result)
    return result


def assert_defaults(gvk: GVK, given: dict[str, Any], expected: dict[str, Any]) -> None:
    """`given` defaults to exactly `expected`, and defaulting `expected` changes nothing."""
    once = defaulted(gvk, given)
    assert once == expected
    assert defaulted(gvk, once) == expected
