"""CronJob schedules: parsing and the start-time arithmetic of Kubernetes' CronJob
controller (`cron.ParseStandard`, `mostRecentScheduleTime`, `nextScheduleTime`).

`parse(text, time_zone)` accepts what Kubernetes' standard parser does: five fields
(minute hour day-of-month month day-of-week, names and ranges/steps allowed), the
descriptors `@yearly` `@annually` `@monthly` `@weekly` `@daily` `@midnight`
`@hourly`, `@every <Go duration>`, and an optional `TZ=<zone>` / `CRON_TZ=<zone>`
prefix; `time_zone` (the CronJob's `spec.timeZone`) wins over a prefix. Field
matching is croniter's (a well-kept implementation of the same cron semantics).
Errors raise `ScheduleError` (its message is what the events show).

`Schedule.next(t)` is the first activation strictly after `t`. `most_recent(earliest,
now)` answers (the latest activation in (earliest, now], how many activations were
missed there - counting stops at 101, "too many" being > 100) and `ScheduleError` for
a schedule that never fires again (`0 0 31 2 *`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

TOO_MANY_MISSED = 100

_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


class ScheduleError(ValueError):
    """An unparseable schedule, unknown time zone, or a schedule that never fires."""


def parse_duration(text: str) -> float:
    """A Go duration ("1h30m", "90s") in seconds; ScheduleError if malformed."""
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ScheduleError(f"time: invalid duration {text!r}")
    return total


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; ScheduleError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ScheduleError(f"unknown time zone {name}") from e


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule: a cron expression in a zone, or a constant `every` delay."""

    expression: str
    zone: ZoneInfo | None
    every: float | None = None

    def next(self, after: datetime) -> datetime:
        """The first activation strictly after `after` (an aware datetime), in UTC."""
        if self.every is not None:
            base = after.replace(microsecond=0)
            return (base + timedelta(seconds=max(self.every, 1.0))).astimezone(UTC)
        local = after.astimezone(self.zone or UTC)
        try:
            found: datetime = croniter(self.expression, local).get_next(datetime)
        except CroniterBadDateError as e:
            raise ScheduleError(
                "time difference between two schedules is less than 1 second"
            ) from e
        return found.astimezone(UTC)

    def most_recent(self, earliest: datetime, now: datetime) -> tuple[datetime | None, int]:
        """(latest activation in (earliest, now], activations missed; see module doc)."""
        latest: datetime | None = None
        missed = 0
        moment = self.next(earliest)
        while moment <= now:
            latest, missed = moment, missed + 1
            if missed > TOO_MANY_MISSED:
                if self.every is None:
                    prev: datetime = croniter(
                        self.expression, now.astimezone(self.zone or UTC)
                    ).get_prev(datetime)
                    nxt = self.next(prev)
                    latest = (nxt if nxt <= now else prev).astimezone(UTC)
                else:
                    steps = int((now - moment).total_seconds() // max(self.every, 1.0))
                    latest = moment + timedelta(seconds=steps * max(self.every, 1.0))
                break
            moment = self.next(moment)
        return latest, missed


def parse(text: str, time_zone: str | None = None) -> Schedule:
    """Parses a CronJob schedule (see module docstring)."""
    text = text.strip()
    zone_name: str | None = None
    if text.startswith(("TZ=", "CRON_TZ=")):
        prefix, _, text = text.partition(" ")
        zone_name = prefix.split("=", 1)[1]
        text = text.strip()
    if time_zone is not None:
        zone_name = time_zone
    zone = load_zone(zone_name) if zone_name else None
    if text.startswith("@every "):
        return Schedule(text, zone, parse_duration(text.removeprefix("@every ").strip()))
    expression = _DESCRIPTORS.get(text, text)
    if expression.startswith("@"):
        raise ScheduleError(f"unrecognized descriptor: {text}")
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: {text}")
    try:
        croniter(expression)
    except (CroniterBadCronError, ValueError) as e:
        raise ScheduleError(str(e)) from e
    return Schedule(expression, zone)
