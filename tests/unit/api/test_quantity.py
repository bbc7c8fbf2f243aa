"""Resource quantities: Kubernetes' parse, canonical-form and rounding tables."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kybernetes.api.quantity import (
    BINARY_SI,
    DECIMAL_EXPONENT,
    DECIMAL_SI,
    FORMAT_WRONG,
    INT64_MAX,
    INT64_MIN,
    SUFFIX_WRONG,
    Quantity,
    QuantityError,
    QuantityFormat,
    parse_quantity,
    quantity_from_json,
)

KI, MI, GI, TI, PI, EI = (1024**n for n in range(1, 7))


@pytest.mark.parametrize(
    ("text", "value", "format"),
    [
        ("0", 0, DECIMAL_SI),
        ("0n", 0, DECIMAL_SI),
        ("0m", 0, DECIMAL_SI),
        ("0Ki", 0, BINARY_SI),
        ("0k", 0, DECIMAL_SI),
        ("0Mi", 0, BINARY_SI),
        ("0Ti", 0, BINARY_SI),
        ("1", 1, DECIMAL_SI),
        ("1Ki", KI, BINARY_SI),
        ("8Ki", 8 * KI, BINARY_SI),
        ("7Mi", 7 * MI, BINARY_SI),
        ("6Gi", 6 * GI, BINARY_SI),
        ("5Ti", 5 * TI, BINARY_SI),
        ("4Pi", 4 * PI, BINARY_SI),
        ("3Ei", 3 * EI, BINARY_SI),
        ("100Ti", 100 * TI, BINARY_SI),
        ("5n", "5e-9", DECIMAL_SI),
        ("4u", "4e-6", DECIMAL_SI),
        ("3m", "3e-3", DECIMAL_SI),
        ("8k", 8000, DECIMAL_SI),
        ("50k", 50000, DECIMAL_SI),
        ("7M", "7e6", DECIMAL_SI),
        ("6G", "6e9", DECIMAL_SI),
        ("40T", "4e13", DECIMAL_SI),
        ("2P", "2e15", DECIMAL_SI),
        ("1E", "1e18", DECIMAL_SI),
        ("12E", "12e18", DECIMAL_SI),
        ("1E-3", "1e-3", DECIMAL_EXPONENT),
        ("1e3", 1000, DECIMAL_EXPONENT),
        ("1E6", "1e6", DECIMAL_EXPONENT),
        ("1e14", "1e14", DECIMAL_EXPONENT),
        ("100.035k", 100035, DECIMAL_SI),
        ("0.001", "0.001", DECIMAL_SI),
        ("0.0005k", "0.5", DECIMAL_SI),
        ("0.00050k", "0.5", DECIMAL_SI),
        ("0.05000", "0.05", DECIMAL_SI),
        ("0.5e0", "0.5", DECIMAL_EXPONENT),
        ("0.5e-2", "0.005", DECIMAL_EXPONENT),
        ("10.035M", "10035e3", DECIMAL_SI),
        ("1.2e3", 1200, DECIMAL_EXPONENT),
        ("1.3E+6", "13e5", DECIMAL_EXPONENT),
        ("1.40e9", "14e8", DECIMAL_EXPONENT),
        ("1.7E18", "17e17", DECIMAL_EXPONENT),
        ("9.01", "9.01", DECIMAL_SI),
        ("6.987654321G", 6987654321, DECIMAL_SI),
        ("1.01E", "101e16", DECIMAL_SI),
        # Things that saturate or round (away from zero, to nano).
        ("3.001n", "4e-9", DECIMAL_SI),
        ("1.1E-9", "2e-9", DECIMAL_EXPONENT),
        ("0.0000000001", "1e-9", DECIMAL_SI),
        ("0.0000000005", "1e-9", DECIMAL_SI),
        ("0.5e-9", "1e-9", DECIMAL_EXPONENT),
        ("0.9n", "1e-9", DECIMAL_SI),
        ("0.00000012345", "124e-9", DECIMAL_SI),
        ("0.00000012354", "124e-9", DECIMAL_SI),
        ("-0.00000012345", "-124e-9", DECIMAL_SI),
        ("9Ei", INT64_MAX, BINARY_SI),
        ("9223372036854775807Ki", INT64_MAX, BINARY_SI),
        ("-20Ei", -INT64_MAX, BINARY_SI),
        # Fractional binary values.
        ("100.035Ki", "102435.84", BINARY_SI),
        ("0.5Mi", MI // 2, BINARY_SI),
        ("0.05Gi", "53687091.2", BINARY_SI),
        ("0.025Ti", "27487790694.4", BINARY_SI),
        # Things written by trolls.
        ("0.000000000001Ki", "2e-9", DECIMAL_SI),
        (".001", "0.001", DECIMAL_SI),
        (".0001k", "0.1", DECIMAL_SI),
        ("1.", 1, DECIMAL_SI),
        ("1.G", "1e9", DECIMAL_SI),
        (".", 0, DECIMAL_SI),
        ("-.", 0, DECIMAL_SI),
        ("+5", 5, DECIMAL_SI),
        ("-5", -5, DECIMAL_SI),
        ("000123", 123, DECIMAL_SI),
        ("1e2147483647", "1e2147483647", DECIMAL_EXPONENT),
        ("1e-2147483647", "1e-9", DECIMAL_EXPONENT),
        ("1e0003", 1000, DECIMAL_EXPONENT),
    ],
)
def test_parse(text: str, value: int | str, format: QuantityFormat) -> None:
    quantity = parse_quantity(text)
    assert quantity.decimal == Decimal(value)
    assert quantity.format == format


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", FORMAT_WRONG),
        ("1.1.M", FORMAT_WRONG),
        ("1+1.0M", FORMAT_WRONG),
        ("0.1am", FORMAT_WRONG),
        ("aoeu", FORMAT_WRONG),
        (" 1", FORMAT_WRONG),
        ("1 ", FORMAT_WRONG),
        ("1\n", FORMAT_WRONG),
        ("1Gb", FORMAT_WRONG),
        ("Non-Numeric", FORMAT_WRONG),
        ("0.1mi", SUFFIX_WRONG),
        (".5i", SUFFIX_WRONG),
        ("1i", SUFFIX_WRONG),
        ("-3.01i", SUFFIX_WRONG),
        ("-3.01e-", SUFFIX_WRONG),
        ("1e", SUFFIX_WRONG),
        ("1ee3", SUFFIX_WRONG),
        ("1-", SUFFIX_WRONG),
        ("1KiB", FORMAT_WRONG),
        ("1e4294967297", SUFFIX_WRONG),
        ("1E2147483648", SUFFIX_WRONG),
        ("1E-2147483648", SUFFIX_WRONG),
        ("1e" + "9" * 5000, SUFFIX_WRONG),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as raised:
        parse_quantity(text)
    assert str(raised.value) == message


def test_format_error_names_the_regex() -> None:
    assert FORMAT_WRONG == (
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


@pytest.mark.parametrize(
    ("value", "format", "canonical"),
    [
        (GI, BINARY_SI, "1Gi"),
        (300 * MI, BINARY_SI, "300Mi"),
        (6 * KI, BINARY_SI, "6Ki"),
        (1001 * GI, BINARY_SI, "1001Gi"),
        (TI, BINARY_SI, "1Ti"),
        (5, BINARY_SI, "5"),
        (1025, BINARY_SI, "1025"),
        (2000, BINARY_SI, "2000"),
        (-2000, BINARY_SI, "-2000"),
        (Decimal("0.5"), BINARY_SI, "500m"),
        (Decimal("1234.567"), BINARY_SI, "1234567m"),
        (2**70, BINARY_SI, "1180591620717411303424"),
        (Decimal("1e70"), BINARY_SI, "10e69"),
        (Decimal("2e70"), BINARY_SI, "20e69"),
        (Decimal("1e72"), BINARY_SI, "1e72"),
        (Decimal("1e9"), DECIMAL_SI, "1G"),
        (1000000000, DECIMAL_SI, "1G"),
        (Decimal("0.001"), DECIMAL_SI, "1m"),
        (Decimal("0.08"), DECIMAL_SI, "80m"),
        (Decimal("1.08"), DECIMAL_SI, "1080m"),
        (Decimal("300e6"), DECIMAL_SI, "300M"),
        (Decimal("1e12"), DECIMAL_SI, "1T"),
        (Decimal("1e18"), DECIMAL_SI, "1E"),
        (Decimal("1e21"), DECIMAL_SI, "1e21"),
        (Decimal("5e21"), DECIMAL_SI, "5e21"),
        (Decimal("1e24"), DECIMAL_SI, "1e24"),
        (Decimal("1234567e6"), DECIMAL_SI, "1234567M"),
        (3000, DECIMAL_SI, "3k"),
        (0, DECIMAL_SI, "0"),
        (0, BINARY_SI, "0"),
        (0, DECIMAL_EXPONENT, "0"),
        (Decimal("1e9"), DECIMAL_EXPONENT, "1e9"),
        (Decimal("1e-3"), DECIMAL_EXPONENT, "1e-3"),
        (Decimal("1e-9"), DECIMAL_EXPONENT, "1e-9"),
        (Decimal("0.08"), DECIMAL_EXPONENT, "80e-3"),
        (Decimal("300e6"), DECIMAL_EXPONENT, "300e6"),
        (3000, DECIMAL_EXPONENT, "3e3"),
        (Decimal("1e-9"), DECIMAL_SI, "1n"),
        (Decimal("1.08e-6"), DECIMAL_SI, "1080n"),
        (Decimal("1e-6"), DECIMAL_SI, "1u"),
        (Decimal("1080e-6"), DECIMAL_SI, "1080u"),
        (Decimal("1e-12"), DECIMAL_SI, "1e-12"),
        (Decimal("1e-10"), DECIMAL_SI, "100e-12"),
        (INT64_MIN, DECIMAL_SI, "-9223372036854775808"),
        (Decimal("92233720368547758070"), DECIMAL_SI, "92233720368547758070"),
    ],
)
def test_canonical_form(value: int | Decimal, format: QuantityFormat, canonical: str) -> None:
    assert str(Quantity(value, format)) == canonical
    if value > 0:
        assert str(-Quantity(value, format)) == "-" + canonical
    if value == 0 or abs(Decimal(value)) >= Decimal("1e-9"):  # parsing rounds to nano
        assert parse_quantity(canonical) == Quantity(value)


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("1Ki", "1Ki"),
        ("1Mi", "1Mi"),
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("1000M", "1G"),
        ("1000m", "1"),
        ("0.5", "500m"),
        ("0.1", "100m"),
        ("1.5", "1500m"),
        ("1.5Gi", "1536Mi"),
        ("1500Mi", "1500Mi"),
        ("307200Ki", "300Mi"),
        ("5000m", "5"),
        ("0.001T", "1G"),
        ("1000u", "1m"),
        ("1.08", "1080m"),
        ("1080000000n", "1080m"),
        (".001e12", "1e9"),
        ("1000e-12", "1e-9"),
        ("00", "0"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        ("0.000000000000001", "1n"),
        ("1e3", "1e3"),
        ("1000E", "1e21"),
        ("100E", "100E"),
        ("1e100", "10e99"),
        ("8Ei", "9223372036854775807"),
        ("-20Ei", "-9223372036854775807"),
        ("-9.5Gi", "-9728Mi"),
        ("-9.5000000001Gi", "-10200547328107374183n"),
        ("9223372036854775808", "9223372036854775808"),
        ("18446744073709551616", "18446744073709551616"),
        ("0.5Mi", "512Ki"),
        ("100.035Ki", "102435840m"),
        # Kubernetes prints back an input its fast parse path found canonical-looking.
        ("1E3", "1E3"),
        ("1.441", "1.441"),
        ("1.000001", "1.000001"),
        ("1.000000001", "1.000000001"),
        ("+1", "+1"),
        ("1.", "1."),
        ("10e3", "10e3"),
        ("1.5e3", "1500"),
    ],
)
def test_printed_form(text: str, printed: str) -> None:
    assert str(parse_quantity(text)) == printed


def test_arithmetic_drops_the_verbatim_form() -> None:
    q = parse_quantity("1.441")
    assert str(q + Quantity()) == "1441m"
    assert str(-parse_quantity("1E3")) == "-1e3"


@pytest.mark.parametrize(
    ("text", "value", "milli"),
    [
        ("-.484785E-7466", -1, -1),
        (".484785E-7466", 1, 1),
        ("-.484785E-1", -1, -49),
        (".484785E-1", 1, 49),
        ("-0.0005", -1, -1),
        ("0.0005", 1, 1),
        ("-1500m", -2, -1500),
        ("1500m", 2, 1500),
        ("-9.5000000001Gi", -10200547329, -10200547328108),
        ("9.5000000001Gi", 10200547329, 10200547328108),
        ("-1", -1, -1000),
        ("1", 1, 1000),
        ("0", 0, 0),
        ("100m", 1, 100),
        ("1Gi", GI, GI * 1000),
        ("1n", 1, 1),
        ("9223372036854775807", INT64_MAX, INT64_MAX),
        ("1e100", INT64_MAX, INT64_MAX),
        ("-1e100", INT64_MIN, INT64_MIN),
        ("8Ei", INT64_MAX, INT64_MAX),
    ],
)
def test_value_rounds_away_from_zero(text: str, value: int, milli: int) -> None:
    quantity = parse_quantity(text)
    assert quantity.value() == value
    assert quantity.milli_value() == milli


@pytest.mark.parametrize(
    ("milli", "format", "printed"),
    [
        (1, DECIMAL_SI, "1m"),
        (1000, DECIMAL_SI, "1"),
        (1234000, DECIMAL_SI, "1234"),
        (1441, DECIMAL_SI, "1441m"),
        (1024, BINARY_SI, "1024m"),
        (1000000, DECIMAL_EXPONENT, "1e3"),
        (1024 * 1024, BINARY_SI, "1048576m"),
    ],
)
def test_from_milli(milli: int, format: QuantityFormat, printed: str) -> None:
    quantity = Quantity.from_milli(milli, format)
    assert str(quantity) == printed
    assert parse_quantity(printed).milli_value() == milli


@pytest.mark.parametrize(
    ("value", "format", "printed"),
    [
        (1, DECIMAL_SI, "1"),
        (1000, DECIMAL_SI, "1k"),
        (1234000, DECIMAL_SI, "1234k"),
        (1024, BINARY_SI, "1Ki"),
        (1000000, DECIMAL_EXPONENT, "1e6"),
        (1024 * 1024, BINARY_SI, "1Mi"),
    ],
)
def test_from_int(value: int, format: QuantityFormat, printed: str) -> None:
    assert str(Quantity(value, format)) == printed
    assert parse_quantity(printed).value() == value


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("0", "0", 0),
        ("100m", "50m", 1),
        ("50m", "100m", -1),
        ("10000T", "100Gi", 1),
        ("1", "1000m", 0),
        ("1Gi", "1024Mi", 0),
        ("1e3", "1k", 0),
        ("-1", "0", -1),
    ],
)
def test_comparison(left: str, right: str, expected: int) -> None:
    a, b = parse_quantity(left), parse_quantity(right)
    assert (a > b) - (a < b) == expected
    assert (a == b) is (expected == 0)
    assert (a <= b) is (expected <= 0) and (a >= b) is (expected >= 0)
    if expected == 0:
        assert hash(a) == hash(b)


@pytest.mark.parametrize(
    ("left", "right", "total", "difference"),
    [
        ("100m", "0", "100m", "100m"),
        ("1Gi", "0", "1Gi", "1Gi"),
        ("0", "100m", "100m", "-100m"),
        ("0", "1Gi", "1Gi", "-1Gi"),
        ("1Gi", "512Mi", "1536Mi", "512Mi"),
        ("10", "1", "11", "9"),
        ("10", "1Ki", "1034", "-1014"),
        ("1Ki", "10", "1034", "1014"),
        ("1", "1", "2", "0"),
    ],
)
def test_add_and_sub(left: str, right: str, total: str, difference: str) -> None:
    a, b = parse_quantity(left), parse_quantity(right)
    assert str(a + b) == total
    assert str(a - b) == difference


def test_zero_takes_the_other_format() -> None:
    assert (Quantity() + parse_quantity("1Gi")).format == BINARY_SI
    assert (Quantity() - parse_quantity("1e3")).format == DECIMAL_EXPONENT
    assert (parse_quantity("10") - parse_quantity("1Ki")).format == DECIMAL_SI


def test_quantities_are_values() -> None:
    assert not Quantity() and parse_quantity("1m")
    assert repr(parse_quantity("1024Mi")) == "Quantity('1Gi')"
    assert sorted([parse_quantity("1Gi"), parse_quantity("1"), parse_quantity("500m")]) == [
        parse_quantity("500m"),
        parse_quantity("1"),
        parse_quantity("1Gi"),
    ]
    assert parse_quantity("1") != 1  # a quantity is not a number


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (" 1", "1"),
        ("1 ", "1"),
        ("100m", "100m"),
        (1, "1"),
        (10, "10"),
        (-1, "-1"),
        (0.5, "500m"),
        (1e20, "100e18"),  # Kubernetes reads the text `1e20`: a decimal exponent
        (None, "0"),
    ],
)
def test_from_json(value: object, printed: str) -> None:
    assert str(quantity_from_json(value)) == printed


@pytest.mark.parametrize("value", [True, [1], {"a": 1}, "x", float("inf")])
def test_from_json_rejects(value: object) -> None:
    with pytest.raises(QuantityError):
        quantity_from_json(value)


def test_huge_inputs_stay_cheap() -> None:
    digits = "7" * 6000
    quantity = parse_quantity(digits + "Mi")
    assert quantity.value() == INT64_MAX
    assert str(quantity) == "9223372036854775807"
    assert str(parse_quantity(digits)) == digits
    assert str(Quantity(Decimal("7" * 6000), BINARY_SI)) == "7" * 6000
    # Past int64, a binary value reached by arithmetic still prints exactly...
    assert str(Quantity(2**20 * 10**30, BINARY_SI)) == "931322574615478515625Pi"
    # ...but parsing caps binary values, as Kubernetes does.
    assert parse_quantity("931322574615478515625Pi").value() == INT64_MAX
    zeros = "0" * 100000 + "1"
    assert parse_quantity(zeros).value() == 1
    assert str(parse_quantity(zeros)) == zeros  # printed back verbatim, like Kubernetes
