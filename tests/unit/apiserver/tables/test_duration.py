"""apimachinery's HumanDuration, and the timestamps tables print."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kybernetes.apiserver.tables.duration import age, human_duration, parse_time, rfc3339

from .support import NOW, ago

S, M, H, D = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
MS = timedelta(milliseconds=1)
Y = 365 * D


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        # duration_test.go TestHumanDuration
        (S, "1s"),
        (70 * S, "70s"),
        (190 * S, "3m10s"),
        (70 * M, "70m"),
        (47 * H, "47h"),
        (49 * H, "2d1h"),
        ((8 * 24 + 2) * H, "8d"),
        (367 * D, "367d"),
        (2 * Y + 25 * H, "2y1d"),
        (8 * Y + 2 * H, "8y"),
        # TestHumanDurationBoundaries
        (-2 * S, "<invalid>"),
        (-2 * S + timedelta(microseconds=1), "0s"),
        (timedelta(0), "0s"),
        (S - MS, "0s"),
        (2 * M - MS, "119s"),
        (2 * M, "2m"),
        (2 * M + S, "2m1s"),
        (10 * M - MS, "9m59s"),
        (10 * M, "10m"),
        (10 * M + S, "10m"),
        (3 * H - MS, "179m"),
        (3 * H, "3h"),
        (3 * H + M, "3h1m"),
        (8 * H - MS, "7h59m"),
        (8 * H, "8h"),
        (8 * H + 59 * M, "8h"),
        (2 * D - MS, "47h"),
        (2 * D, "2d"),
        (2 * D + H, "2d1h"),
        (8 * D - MS, "7d23h"),
        (8 * D, "8d"),
        (8 * D + 23 * H, "8d"),
        (2 * Y - MS, "729d"),
        (2 * Y, "2y"),
        (2 * Y + 23 * H + 59 * M, "2y"),
        (2 * Y + D - MS, "2y"),
        (2 * Y + D, "2y1d"),
        (3 * Y, "3y"),
        (7 * Y, "7y"),
        (8 * Y - MS, "7y364d"),
        (8 * Y, "8y"),
        (8 * Y + 364 * D, "8y"),
        (9 * Y, "9y"),
    ],
)
def test_human_duration(delta: timedelta, expected: str) -> None:
    assert human_duration(delta) == expected


def test_age_of_timestamps() -> None:
    assert age(ago(seconds=5), NOW) == "5s"
    assert age(ago(minutes=3, seconds=2), NOW) == "3m2s"
    assert age(ago(days=2, hours=3), NOW) == "2d3h"
    assert age("2024-06-01T11:59:59.250000Z", NOW) == "0s"  # a MicroTime
    assert age(None, NOW) == "<unknown>"
    assert age("", NOW) == "<unknown>"
    assert age("0001-01-01T00:00:00Z", NOW) == "<unknown>"
    assert age("yesterday", NOW) == "<unknown>"


def test_parse_time_wants_a_zone() -> None:
    assert parse_time("2024-06-01T12:00:00+02:00") is not None
    assert parse_time("2024-06-01T12:00:00") is None


def test_rfc3339_is_whole_seconds_in_utc() -> None:
    assert rfc3339("2024-06-01T12:00:00.123456Z") == "2024-06-01T12:00:00Z"
    assert rfc3339("2024-06-01T14:00:00+02:00") == "2024-06-01T12:00:00Z"
    assert rfc3339(None) == "0001-01-01T00:00:00Z"
