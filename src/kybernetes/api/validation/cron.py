"""CronJobs, and their schedules parsed as Kubernetes parses them (robfig/cron v3).

The counterpart of the CronJob rules of `pkg/apis/batch/validation` (Kubernetes 1.32):
a schedule, a concurrency policy, a time zone and a job template without a selector.
A schedule is five fields (minute, hour, day of month, month, day of week), each a
comma-separated list of `*`, `?`, `N`, `N-M`, with an optional `/step`; months and
weekdays may be named (`jan`, `mon`). A descriptor (`@hourly`, `@daily`, `@midnight`,
`@weekly`, `@monthly`, `@yearly`, `@annually`) or `@every <Go duration>` stands for a
whole schedule. `schedule_error` returns the parser's error text, which Kubernetes
puts verbatim in `spec.schedule: Invalid value: "...": <error>`.

`TZ=`/`CRON_TZ=` prefixes are stripped without loading the zone, and `spec.timeZone` is
checked for syntax only: telling whether a zone exists needs the time zone database
(I/O). Kubernetes refuses TZ prefixes on create anyway.

Invariants: pure functions; messages are robfig's and Go's (`strconv.Atoi`,
`time.ParseDuration`) word for word.
"""

from __future__ import annotations

import re
from typing import Final

from kybernetes.api.validation.batch import validate_job_spec
from kybernetes.api.validation.common import (
    Errors,
    Obj,
    child,
    nonnegative,
    optional_child,
    optional_number,
    semantic_equal,
    text,
)
from kybernetes.api.validation.errors import FieldPath, go_quote, invalid, not_supported, required

_SPEC: Final = FieldPath("spec")
_CONCURRENCY: Final = ("Allow", "Forbid", "Replace")
_TIME_ZONE_PART: Final = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")

# (minimum, maximum, names) of each field, in order.
_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DAYS: Final = {
    name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}
_BOUNDS: Final[tuple[tuple[int, int, dict[str, int]], ...]] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)
_DESCRIPTORS: Final = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_INT64_MAX: Final = 2**63 - 1
_ATOI: Final = re.compile(r"[+-]?[0-9]+")
_UNITS: Final = {
    "ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9,
    "m": 60 * 10**9, "h": 3600 * 10**9,
}  # fmt: skip


class _ParseError(Exception):
    """A schedule the parser refuses; the message is robfig's."""


def _atoi(text: str) -> int:
    """Go's `strconv.Atoi`, raising with its message."""
    if not _ATOI.fullmatch(text):
        raise _ParseError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    value = int(text)
    if not -(2**63) <= value <= _INT64_MAX:
        raise _ParseError(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return value


def _must_parse_int(text: str) -> int:
    try:
        value = _atoi(text)
    except _ParseError as error:
        raise _ParseError(f"failed to parse int from {text}: {error}") from None
    if value < 0:
        raise _ParseError(f"negative number ({value}) not allowed: {text}")
    return value


def _int_or_name(text: str, names: dict[str, int]) -> int:
    return names[text.lower()] if text.lower() in names else _must_parse_int(text)


def _check_range(expr: str, low: int, high: int, names: dict[str, int]) -> None:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _int_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], names)
        else:
            raise _ParseError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _must_parse_int(range_and_step[1])
        if len(low_and_high) == 1:
            end = high
    elif len(range_and_step) > 2:
        raise _ParseError(f"too many slashes: {expr}")
    if start < low:
        raise _ParseError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise _ParseError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise _ParseError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise _ParseError(f"step of range should be a positive number: {expr}")


def duration_error(text: str) -> str | None:
    """Why Go's `time.ParseDuration` refuses `text`, or None if it accepts it."""
    original, rest = text, text
    invalid = f"time: invalid duration {go_quote(original)}"
    if rest[:1] in ("-", "+"):
        rest = rest[1:]
    if rest == "0":
        return None
    if not rest:
        return invalid
    total = 0
    while rest:
        match = re.match(r"([0-9]*)(\.([0-9]*))?", rest)
        assert match is not None  # the pattern matches the empty string
        whole, fraction = match[1], match[3]
        if not whole and not fraction:
            return invalid
        rest = rest[match.end() :]
        unit = re.match(r"[^.0-9]*", rest)
        assert unit is not None
        if not unit[0]:
            return f"time: missing unit in duration {go_quote(original)}"
        if unit[0] not in _UNITS:
            return f"time: unknown unit {go_quote(unit[0])} in duration {go_quote(original)}"
        rest = rest[unit.end() :]
        scale = _UNITS[unit[0]]
        total += int(whole or "0") * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        if total > _INT64_MAX:
            return invalid
    return None


def schedule_error(schedule: str) -> str | None:
    """Why robfig/cron's standard parser refuses `schedule`, or None if it accepts it."""
    if not schedule:
        return "empty spec string"
    if schedule.startswith(("TZ=", "CRON_TZ=")):
        schedule = schedule.partition(" ")[2].strip()
    if schedule.startswith("@"):
        if schedule in _DESCRIPTORS:
            return None
        if schedule.startswith("@every "):
            error = duration_error(schedule.removeprefix("@every "))
            return f"failed to parse duration {schedule}: {error}" if error else None
        return f"unrecognized descriptor: {schedule}"
    fields = schedule.split()
    if len(fields) != len(_BOUNDS):
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    try:
        for field, (low, high, names) in zip(fields, _BOUNDS, strict=True):
            for expr in filter(None, field.split(",")):
                _check_range(expr, low, high, names)
    except _ParseError as error:
        return str(error)
    return None


def _time_zone(zone: object, path: FieldPath) -> Errors:
    if not isinstance(zone, str):
        return []
    if not zone:
        return [invalid(path, zone, "timeZone must be nil or non-empty string")]
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TIME_ZONE_PART.fullmatch(part):
            return [invalid(path, zone, f"unknown time zone {zone}")]
    if zone.lower() == "local":
        detail = (
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        )
        return [invalid(path, zone, detail)]
    return []


def _cron_job_spec(spec: Obj, old_spec: Obj | None) -> Errors:
    errors: Errors = []
    schedule, schedule_path = text(spec, "schedule"), _SPEC.child("schedule")
    if not schedule:
        errors.append(required(schedule_path))
    else:
        if reason := schedule_error(schedule):
            errors.append(invalid(schedule_path, schedule, reason))
        allow_tz = old_spec is not None and "TZ" in text(old_spec, "schedule")
        if allow_tz and "TZ" in schedule and spec.get("timeZone") is not None:
            detail = "cannot use both timeZone field and TZ or CRON_TZ in schedule"
            errors.append(invalid(schedule_path, schedule, detail))
        elif not allow_tz and "TZ" in schedule:
            detail = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
            errors.append(invalid(schedule_path, schedule, detail))
    if (deadline := optional_number(spec, "startingDeadlineSeconds")) is not None:
        errors += nonnegative(deadline, _SPEC.child("startingDeadlineSeconds"))
    if old_spec is None or not semantic_equal(old_spec.get("timeZone"), spec.get("timeZone")):
        errors += _time_zone(spec.get("timeZone"), _SPEC.child("timeZone"))
    concurrency, concurrency_path = (
        text(spec, "concurrencyPolicy"),
        _SPEC.child("concurrencyPolicy"),
    )
    if not concurrency:
        errors.append(required(concurrency_path))
    elif concurrency not in _CONCURRENCY:
        errors.append(not_supported(concurrency_path, concurrency, _CONCURRENCY))
    template_path = _SPEC.child("jobTemplate", "spec")
    job_spec = child(child(spec, "jobTemplate"), "spec")
    errors += validate_job_spec(job_spec, template_path)
    if (selector := optional_child(job_spec, "selector")) is not None:
        errors.append(
            invalid(
                template_path.child("selector"), dict(selector), "`selector` will be auto-generated"
            )
        )
    if job_spec.get("manualSelector") is True:
        errors.append(not_supported(template_path.child("manualSelector"), True, ["nil", "false"]))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if (limit := optional_number(spec, key)) is not None:
            errors += nonnegative(limit, _SPEC.child(key))
    return errors


def validate_cron_job(cron_job: Obj) -> Errors:
    """A CronJob on create; its name leaves room for the Jobs' 11-character suffix."""
    errors = _cron_job_spec(child(cron_job, "spec"), None)
    name = text(child(cron_job, "metadata"), "name")
    if len(name) > 52:
        errors.append(
            invalid(FieldPath("metadata", "name"), name, "must be no more than 52 characters")
        )
    return errors


def validate_cron_job_update(new: Obj, old: Obj) -> Errors:
    """A CronJob update: the spec rules, with the old schedule's TZ prefix tolerated."""
    return _cron_job_spec(child(new, "spec"), child(old, "spec"))
