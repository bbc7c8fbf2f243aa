"""Go's `time.Duration` text form, as Kubernetes configuration and messages use it.

`parse_duration("1m30s") == 90.0` accepts Go's syntax (`time.ParseDuration`): an
optional sign, then one or more decimal numbers each with a unit of ns, us (µs), ms,
s, m or h; "0" alone is allowed. `format_duration(90) == "1m30s"` prints like Go's
`Duration.String()` for the values Kubernetes shows (whole and fractional seconds,
minutes, hours: "10s", "1.5s", "5m0s", "1h0m0s", "300ms", "0s").
"""

from __future__ import annotations

import re
from typing import Final

_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNITS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_duration(text: str) -> float:
    """Seconds; ValueError('time: invalid duration "X"') as Go words it."""
    body = text[1:] if text[:1] in "+-" else text
    sign = -1.0 if text[:1] == "-" else 1.0
    if body == "0":
        return 0.0
    position, total = 0, 0.0
    for match in _PART.finditer(body):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not body or position != len(body):
        raise ValueError(f'time: invalid duration "{text}"')
    return sign * total


def format_duration(seconds: float) -> str:
    """Go's `Duration.String()` (see the module docstring)."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 1:
        for unit, scale in (("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
            if seconds >= scale:
                return f"{sign}{_number(seconds / scale)}{unit}"
        return f"{sign}{_number(seconds / 1e-9)}ns"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{_number(secs)}s"
    if hours or minutes:
        text = f"{int(minutes)}m{text}"
    if hours:
        text = f"{int(hours)}h{text}"
    return sign + text


def _number(value: float) -> str:
    return f"{round(value, 9):.9f}".rstrip("0").rstrip(".")
