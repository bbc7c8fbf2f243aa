"""The Go decoder's scalar error messages."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.godecode import (
    base64_error,
    describe,
    integer_mismatch,
    quantity_error,
    time_error,
)
from kybernetes.api.quantity import FORMAT_WRONG, SUFFIX_WRONG
from kybernetes.api.schemanode import RFC3339, RFC3339_MICRO


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("x", "string"),
        (True, "bool"),
        (1, "number"),
        (1.5, "number"),
        ({}, "object"),
        ([], "array"),
    ],
)
def test_describe(value: Any, kind: str) -> None:
    assert describe(value) == kind


def test_integers() -> None:
    assert integer_mismatch(2**31 - 1, "int32") is None
    assert integer_mismatch(-(2**31), "int32") is None
    assert integer_mismatch(2**31, "int32") == "number 2147483648"
    assert integer_mismatch(2**31, "int64") is None
    assert integer_mismatch(1.0, "int64") == "number 1.0"
    assert integer_mismatch(True, "int32") == "bool"
    assert integer_mismatch("1", "int32") == "string"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("100m", None),
        ("1.5Gi", None),
        (" 2 ", None),
        ("1e3", None),
        (2, None),
        (0.5, None),
        ("", FORMAT_WRONG),
        ("two", FORMAT_WRONG),
        ("1Q", FORMAT_WRONG),
        ("1e", SUFFIX_WRONG),
        (True, FORMAT_WRONG),
        ({"a": 1}, FORMAT_WRONG),
        ([1], FORMAT_WRONG),
    ],
)
def test_quantities(value: Any, error: str | None) -> None:
    assert quantity_error(value) == error


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("aGVsbG8=", None),
        ("aGVsbA==", None),
        ("", None),
        ("aGVs\r\nbG8=", None),
        ("aGVsbG8", 4),  # short final quantum: its start
        ("abc", 0),
        ("a===", 1),
        ("aGVsbA=", 7),  # "==" cut short
        ("aGVsbG8=x", 8),  # trailing garbage
        ("hunter2", 4),
        ("a b", 1),
        ("é", 0),
    ],
)
def test_base64(value: str, offset: int | None) -> None:
    expected = None if offset is None else f"illegal base64 data at input byte {offset}"
    assert base64_error(value) == expected


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("2024-05-01T10:00:00Z", None),
        ("2024-05-01T10:00:00.5+02:00", None),
        ("2024-02-29T23:59:59-07:00", None),
        ("2024-05-01T1:00:00Z", None),
        ("", 'cannot parse "" as "2006"'),
        ("2024-05-01", 'cannot parse "" as "T"'),
        ("2024-05-01 10:00:00Z", 'cannot parse " 10:00:00Z" as "T"'),
        ("2024-05-01T10:00:00", 'cannot parse "" as "Z07:00"'),
        ("2024-13-01T10:00:00Z", "month out of range"),
        ("2023-02-29T10:00:00Z", "day out of range"),
        ("2024-05-01T24:00:00Z", "hour out of range"),
        ("2024-05-01T10:00:00Zjunk", 'extra text: "junk"'),
    ],
)
def test_rfc3339_times(value: str, error: str | None) -> None:
    result = time_error(value, RFC3339)
    if error is None:
        assert result is None
    else:
        assert result is not None
        assert result.startswith(f'parsing time "{value}"')
        assert result.endswith(error)
        if "cannot parse" in error:
            assert f'as "{RFC3339}": ' in result


def test_micro_times_need_six_fraction_digits() -> None:
    assert time_error("2024-05-01T10:00:00.123456Z", RFC3339_MICRO) is None
    assert time_error("2024-05-01T10:00:00Z", RFC3339_MICRO) == (
        f'parsing time "2024-05-01T10:00:00Z" as "{RFC3339_MICRO}": cannot parse "Z" as ".000000"'
    )


def test_non_string_times() -> None:
    assert time_error(5, RFC3339) == "json: cannot unmarshal number into Go value of type string"


def test_only_ascii_digits_and_go_quoting() -> None:
    arabic = "٢٠٢٤-05-01T10:00:00Z"
    assert time_error(arabic, RFC3339) == (
        'parsing time "\\xd9\\xa2\\xd9\\xa0\\xd9\\xa2\\xd9\\xa4-05-01T10:00:00Z" as'
        f' "{RFC3339}": cannot parse "\\xd9\\xa2\\xd9\\xa0\\xd9\\xa2\\xd9\\xa4-05-01T10:00:00Z"'
        ' as "2006"'
    )
