"""CronJob schedule parsing and start-time arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kybernetes.controllers.cronjob.schedule import ScheduleError, parse, parse_duration

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_descriptors_and_fields() -> None:
    assert parse("@hourly").next(T0) == T0 + timedelta(hours=1)
    assert parse("*/5 * * * *").next(T0) == T0 + timedelta(minutes=5)
    assert parse("0 0 * * MON").next(T0) == datetime(2025, 1, 6, tzinfo=UTC)
    assert parse("@every 90s").next(T0) == T0 + timedelta(seconds=90)


def test_time_zones_prefix_and_spec() -> None:
    new_york = datetime(2025, 1, 1, 14, tzinfo=UTC)  # 09:00 in New York
    assert parse("TZ=America/New_York 0 9 * * *").next(T0) == new_york
    assert parse("0 9 * * *", "America/New_York").next(T0) == new_york
    assert parse("CRON_TZ=Etc/UTC 0 9 * * *", "America/New_York").next(T0) == new_york


@pytest.mark.parametrize(
    "text", ["* * * *", "* * * * * *", "61 * * * *", "@fortnightly", "@every 5x"]
)
def test_rejects_what_kubernetes_rejects(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse(text)


def test_unknown_zone() -> None:
    with pytest.raises(ScheduleError, match="time zone"):
        parse("* * * * *", "Mars/Olympus")


def test_most_recent_counts_missed_and_caps_counting() -> None:
    every_minute = parse("* * * * *")
    assert every_minute.most_recent(T0, T0 + timedelta(seconds=30)) == (None, 0)
    latest, missed = every_minute.most_recent(T0, T0 + timedelta(minutes=3, seconds=5))
    assert (latest, missed) == (T0 + timedelta(minutes=3), 3)
    latest, missed = every_minute.most_recent(T0, T0 + timedelta(hours=5, seconds=1))
    assert latest == T0 + timedelta(hours=5)
    assert missed == 101


def test_never_firing_schedule() -> None:
    with pytest.raises(ScheduleError):
        parse("0 0 31 2 *").next(T0)


def test_go_durations() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("1.5s") == 1.5
    with pytest.raises(ScheduleError):
        parse_duration("5")
