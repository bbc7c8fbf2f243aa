"""How deeply request objects may nest: `nesting_error(value)`.

kube-apiserver's Go decoder accepts 10000 levels of nesting. This server stores and
serves objects as JSON through orjson, which encodes at most 254 levels, and walks
them recursively in Python; so a request body, and every object written, may nest
objects and arrays at most `MAX_NESTING` deep (leaving room for the envelopes of
lists, watch events and tables). Callers answer deeper ones 400 BadRequest.
"""

from __future__ import annotations

from typing import Any, Final

MAX_NESTING: Final = 200


def nesting_error(value: Any) -> str | None:
    """Go's wording, "json: exceeded max depth", if `value` nests objects and arrays
    more than `MAX_NESTING` deep; else None. Iterative, so any depth is safe."""
    if not isinstance(value, dict | list):
        return None
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > MAX_NESTING:
            return "json: exceeded max depth"
        pending.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return None
