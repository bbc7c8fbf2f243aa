"""Human durations and the timestamps they are measured from, as kube-apiserver prints them.

`human_duration` is apimachinery's `duration.HumanDuration`: about two significant
figures (`5s`, `119s`, `3m10s`, `70m`, `3h1m`, `47h`, `2d1h`, `8d`, `2y1d`, `8y`), `0s`
for a slightly negative duration (clock skew under two seconds) and `<invalid>` below
that. Arithmetic is on whole nanoseconds truncated toward zero, as Go's `time.Duration`
does. `age` is the printers' `translateTimestampSince`: the human duration from a
timestamp to now, `<unknown>` for a missing or zero timestamp.

Invariants: pure functions of their arguments; timestamps are RFC 3339 strings
(`metav1.Time`, or `metav1.MicroTime` with fractional seconds) and datetimes are
timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_SECOND = 10**9
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def _quotient(numerator: int, denominator: int) -> int:
    """Integer division truncating toward zero, like Go's."""
    q = abs(numerator) // denominator
    return q if numerator >= 0 else -q


def human_duration(delta: timedelta) -> str:
    """`duration.HumanDuration`: a short, approximate rendering of `delta`."""
    ns = delta // timedelta(microseconds=1) * 1000
    seconds = _quotient(ns, _SECOND)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = ns // _MINUTE
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = ns // _HOUR
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = divmod(hours // 24, 365)
    if hours < 24 * 365 * 8 and days:
        return f"{years}y{days}d"
    return f"{years}y"


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None when absent, zero or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return None if parsed == _ZERO_TIME else parsed


def age(timestamp: object, now: datetime) -> str:
    """`translateTimestampSince`: how long ago `timestamp` was, or `<unknown>`."""
    parsed = parse_time(timestamp)
    return "<unknown>" if parsed is None else human_duration(now - parsed)


def rfc3339(timestamp: object) -> str:
    """A timestamp reformatted as Go's `Time.UTC().Format(time.RFC3339)` (whole seconds);
    a missing one is Go's zero time."""
    parsed = (parse_time(timestamp) or _ZERO_TIME).astimezone(UTC).replace(microsecond=0)
    return parsed.isoformat().replace("+00:00", "Z")
