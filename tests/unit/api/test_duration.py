"""Go duration text: parsing and printing as Go does."""

from __future__ import annotations

import pytest

from kybernetes.api.duration import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("10s", 10.0),
        ("1m30s", 90.0),
        ("1h", 3600.0),
        ("1.5h", 5400.0),
        ("300ms", 0.3),
        ("-2s", -2.0),
        ("1h2m3s4ms", 3723.004),
        ("2us", 2e-6),
    ],
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "1x", "s", "1s2", "--1s", "1 s"])
def test_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="time: invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (10, "10s"),
        (1.5, "1.5s"),
        (300, "5m0s"),
        (80, "1m20s"),
        (3600, "1h0m0s"),
        (0.3, "300ms"),
        (-2, "-2s"),
    ],
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
