"""What Go's JSON decoder says about a scalar that does not fit its Go type.

kube-apiserver decodes a built-in object by unmarshalling its JSON into Go structs, so a
value of the wrong shape fails with the decoder's own wording. These helpers reproduce
those messages for values already parsed by Python's JSON decoder:

- `describe`: how `encoding/json` names a JSON value in "cannot unmarshal X" ("string",
  "number", "bool", "object", "array"); a number that is no integer of the target type
  is "number <text>" (`integer_mismatch`).
- `quantity_error`: `resource.Quantity`'s `ParseQuantity` errors (via `quantity`).
- `base64_error`: `encoding/base64.StdEncoding`'s "illegal base64 data at input byte N"
  (the decoding of `[]byte` fields such as `Secret.data`).
- `time_error`: `time.Parse` errors for `metav1.Time` (RFC 3339) and `MicroTime`.

Pure functions of their arguments; None means "Go accepts this value".
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable
from typing import Any

from .quantity import FORMAT_WRONG, QuantityError, quantity_from_json

INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

_BASE64_CANONICAL = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_BASE64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_NEWLINES = frozenset(b"\r\n")

_D2 = "([0-9]{2})"
_DATE_TIME = f"([0-9]{{4}})-{_D2}-{_D2}T{_D2}:{_D2}:{_D2}"
_ZONE = f"(?:Z|[+-]{_D2}:{_D2})"
_RFC3339_FAST = re.compile(rf"{_DATE_TIME}(\.[0-9]+)?{_ZONE}")
_RFC3339_MICRO_FAST = re.compile(rf"{_DATE_TIME}(\.[0-9]{{6}}){_ZONE}")


def describe(value: Any) -> str:
    """The JSON value's kind as Go's UnmarshalTypeError names it."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "array" if isinstance(value, list) else "object"


def integer_mismatch(value: Any, go_type: str) -> str | None:
    """None if Go decodes `value` into `go_type` (int32/int64); else the description Go
    reports: "number 1.5" for a non-integral or out-of-range number, else `describe`."""
    if type(value) is int:
        low, high = INT_BOUNDS[go_type]
        return None if low <= value <= high else f"number {value}"
    if type(value) is float:
        return f"number {value!r}"
    return describe(value)


def quantity_error(value: Any) -> str | None:
    """`resource.Quantity.UnmarshalJSON`'s error for a value, or None if it parses."""
    if isinstance(value, dict | list):
        return FORMAT_WRONG
    return _quantity_error(value)


@functools.lru_cache(maxsize=4096, typed=True)
def _quantity_error(value: str | float | bool | None) -> str | None:
    """Cached: the same few quantities recur in every pod spec."""
    try:
        quantity_from_json(value)
    except QuantityError as e:
        return str(e)
    return None


def base64_error(value: str) -> str | None:
    """Go's `base64.StdEncoding.Decode` error for `value`, or None if it decodes.

    Go skips CR and LF anywhere, requires padding, and reports the byte offset of the
    first offending byte (of a short final quantum: its start).
    """
    src = value.encode("utf-8", "surrogatepass")
    if _BASE64_CANONICAL.fullmatch(src):
        return None
    offset = _base64_corrupt_offset(src)
    return None if offset is None else f"illegal base64 data at input byte {offset}"


def _base64_corrupt_offset(src: bytes) -> int | None:
    """A port of Go's `decodeQuantum` loop, returning `CorruptInputError`'s offset."""
    si, end = 0, len(src)
    while si < end:
        j = 0
        while j < 4:
            if si == end:
                return None if j == 0 else si - j
            c = src[si]
            si += 1
            if c in _BASE64_ALPHABET:
                j += 1
                continue
            if c in _NEWLINES:
                continue
            if c != ord("=") or j < 2:
                return si - 1
            if j == 2:  # "==" expected; the first "=" is consumed
                while si < end and src[si] in _NEWLINES:
                    si += 1
                if si == end:
                    return end
                if src[si] != ord("="):
                    return si - 1
                si += 1
            while si < end and src[si] in _NEWLINES:
                si += 1
            return si if si < end else None  # trailing garbage after the padding
    return None


def time_error(value: Any, layout: str) -> str | None:
    """`metav1.Time`/`MicroTime` UnmarshalJSON's error for a value, or None.

    `layout` is RFC3339 or RFC3339Micro in Go's notation. A non-string fails in
    `json.Unmarshal` into a string; a string fails as `time.Parse` reports it.
    """
    if not isinstance(value, str):
        return f"json: cannot unmarshal {describe(value)} into Go value of type string"
    return _time_string_error(value, layout)


@functools.lru_cache(maxsize=4096)
def _time_string_error(value: str, layout: str) -> str | None:
    """Cached: an object's timestamps repeat across its updates and its conditions."""
    micro = ".000000" in layout
    m = (_RFC3339_MICRO_FAST if micro else _RFC3339_FAST).fullmatch(value)
    if m is not None and _plausible(m.groups()):
        return None
    return _parse_error(value, layout, micro)


def _plausible(fields: tuple[str | None, ...]) -> bool:
    year, month, day, hour, minute, second, _, zone_hour, zone_minute = fields
    return (
        1 <= int(month or 0) <= 12
        and 1 <= int(day or 0) <= _days_in(int(month or 0), int(year or 0))
        and int(hour or 0) < 24
        and int(minute or 0) < 60
        and int(second or 0) < 60
        and int(zone_hour or 0) <= 24
        and int(zone_minute or 0) <= 60
    )


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if calendar.isleap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _quote(text: str) -> str:
    """Go's `time` quoting: backslash-escaped quotes and backslashes, other bytes that are
    not printable ASCII as `\\xNN`."""
    out = []
    for c in text:
        if " " <= c < "\x80":
            out.append("\\" + c if c in '"\\' else c)
        else:
            out.extend(f"\\x{b:02x}" for b in c.encode("utf-8", "surrogatepass"))
    return '"' + "".join(out) + '"'


def _below(name: str, limit: int) -> Callable[[re.Match[str]], str | None]:
    return lambda m: None if int(m.group(1)) < limit else name


def _zone(m: re.Match[str]) -> str | None:
    if m.group(1) is None:
        return None
    if int(m.group(1)) > 24:
        return "time zone offset hour"
    return "time zone offset minute" if int(m.group(2)) > 60 else None


def _month(m: re.Match[str]) -> str | None:
    return None if 1 <= int(m.group(1)) <= 12 else "month"


_Element = tuple[str, re.Pattern[str], Callable[[re.Match[str]], str | None] | None]


def _elements(micro: bool) -> list[_Element]:
    """Go's layout elements of RFC3339 (or RFC3339Micro): what each accepts, and the
    range check `time.parse` runs right after it."""
    seconds = (
        r"([0-9][0-9])" if micro else r"([0-9][0-9])(?:[.,][0-9]+)?"
    )  # Go takes an unlaid fraction
    return [
        ("2006", re.compile(r"([0-9]{4})"), None),
        ("-", re.compile("-"), None),
        ("01", re.compile(r"([0-9][0-9])"), _month),
        ("-", re.compile("-"), None),
        ("02", re.compile(r"([0-9][0-9])"), None),
        ("T", re.compile("T"), None),
        ("15", re.compile(r"([0-9][0-9]?)"), _below("hour", 24)),
        (":", re.compile(":"), None),
        ("04", re.compile(r"([0-9][0-9])"), _below("minute", 60)),
        (":", re.compile(":"), None),
        ("05", re.compile(seconds), _below("second", 60)),
        *([(".000000", re.compile(r"[.,][0-9]{6}"), None)] if micro else []),
        ("Z07:00", re.compile(r"Z|[+-]([0-9][0-9]):([0-9][0-9])"), _zone),
    ]


def _parse_error(value: str, layout: str, micro: bool) -> str | None:
    """Walks the layout over `value` as Go's `time.parse` does and words its first error."""
    head = f"parsing time {_quote(value)}"
    rest = value
    numbers: list[int] = []
    for element, pattern, check in _elements(micro):
        m = pattern.match(rest)
        if m is None:
            return f"{head} as {_quote(layout)}: cannot parse {_quote(rest)} as {_quote(element)}"
        rest = rest[m.end() :]
        if element in ("2006", "01", "02"):
            numbers.append(int(m.group(1)))
        problem = check(m) if check else None
        if problem:
            return f"{head}: {problem} out of range"
    if rest:
        return f"{head}: extra text: {_quote(rest)}"
    year, month, day = numbers
    return None if 1 <= day <= _days_in(month, year) else f"{head}: day out of range"
