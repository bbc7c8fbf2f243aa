"""Resource quantities (Kubernetes' `resource.Quantity`), exact and printed as Kubernetes does.

A quantity is a signed decimal number with a suffix: binary SI (`Ki` .. `Ei`),
decimal SI (`n u m "" k M G T P E`) or a decimal exponent (`e3`, `E-6`). Parsing
keeps the exact value (held as a `Decimal`, never a float) and the suffix family
(`format`), which printing reuses: `str()` gives the canonical form, with no
fractional digits and the largest suffix that loses nothing (`1000m` -> `1`,
`1024Mi` -> `1Gi`, `0.5` -> `500m`, `1.5Gi` -> `1536Mi`).

Kubernetes' parse rules, kept exactly (apimachinery `api/resource`, with the
fixes of later releases that stop silent corruption):
  * a non-zero value finer than 1n is rounded away from zero to a multiple of 1n;
  * a binary SI value is capped at 2^63-1 in magnitude, and one below 1 in
    magnitude is kept as decimal SI;
  * an exponent must fit an int32 (`1e4294967297` is refused, not wrapped);
  * an input already in a canonical-looking form is remembered and printed back
    verbatim (Kubernetes' parse cache: `1e3` stays `1e3`, `1.441` stays `1.441`),
    until arithmetic produces a new value;
  * a value past `E` (or below `n`) is printed with a decimal exponent, never
    truncated.

`value()` and `milli_value()` round away from zero, like Kubernetes' `Value()` and
`MilliValue()`; where Kubernetes silently overflows an int64 they saturate at the
int64 bounds instead.

Invariants: `Quantity` is immutable; equality, ordering and hashing follow the
numeric value only (`Quantity("1") == Quantity("1000m")`).
"""

from __future__ import annotations

import re
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_UP,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
)
from typing import Final, Literal

QuantityFormat = Literal["DecimalExponent", "BinarySI", "DecimalSI"]
DECIMAL_EXPONENT: Final = "DecimalExponent"
BINARY_SI: Final = "BinarySI"
DECIMAL_SI: Final = "DecimalSI"

FORMAT_WRONG: Final = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
SUFFIX_WRONG: Final = "unable to parse quantity's suffix"

INT64_MAX: Final = 2**63 - 1
INT64_MIN: Final = -(2**63)
_INT32_MAX: Final = 2**31 - 1

# Exact arithmetic: any rounding would be a bug, so it raises.
_EXACT: Final = Context(
    prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[Inexact, InvalidOperation]
)
_AWAY_FROM_ZERO: Final = Context(
    prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, rounding=ROUND_UP, traps=[InvalidOperation]
)
_NANO: Final = Decimal("1E-9")

# Kubernetes' scanner, as one expression: sign, leading zeros, integer digits,
# optional fraction, then a suffix made of the suffix letters, a sign and digits.
# Possessive quantifiers: like the scanner, each part takes all it can, once.
_SCAN: Final = re.compile(r"([+-]?)0*+([0-9]*+)(?:\.([0-9]*+))?([eEinumkKMGTP]*+[-+]?[0-9]*+)")
_EXPONENT: Final = re.compile(r"[eE]([+-]?)0*([0-9]+)")
_DECIMAL_SUFFIXES: Final = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}  # fmt: skip
_BINARY_SUFFIXES: Final = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_BY_EXPONENT: Final = {exponent: suffix for suffix, exponent in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER: Final = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


class QuantityError(ValueError):
    """A string that is not a quantity; the message is Kubernetes' own."""


class Quantity:
    """An exact quantity with its preferred suffix family; see the module docstring."""

    __slots__ = ("_format", "_text", "_value")

    def __init__(self, value: Decimal | int = 0, format: QuantityFormat = DECIMAL_SI) -> None:
        self._value = Decimal(value)
        self._format: QuantityFormat = format
        self._text = ""  # the parsed input, when Kubernetes would print it back verbatim

    @classmethod
    def from_milli(cls, milli: int, format: QuantityFormat = DECIMAL_SI) -> Quantity:
        """`milli` thousandths (Kubernetes' `NewMilliQuantity`)."""
        return cls(Decimal(milli).scaleb(-3, _EXACT), format)

    @property
    def decimal(self) -> Decimal:
        """The exact value."""
        return self._value

    @property
    def format(self) -> QuantityFormat:
        """The suffix family used when printing."""
        return self._format

    def value(self) -> int:
        """The value rounded away from zero to an integer (`Value()`), saturated to int64."""
        return _rounded_int(self._value)

    def milli_value(self) -> int:
        """The value in thousandths, rounded away from zero (`MilliValue()`), saturated to int64."""
        return _rounded_int(self._value.scaleb(3, _EXACT))

    def __add__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(_EXACT.add(self._value, other._value), self._sum_format(other))

    def __sub__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(_EXACT.subtract(self._value, other._value), self._sum_format(other))

    def _sum_format(self, other: Quantity) -> QuantityFormat:
        # Like Kubernetes' Add and Sub: a zero takes the other operand's format.
        return self._format if self._value else other._format

    def __neg__(self) -> Quantity:
        return Quantity(-self._value, self._format)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self._value == other._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __lt__(self, other: Quantity) -> bool:
        return self._value < other._value

    def __le__(self, other: Quantity) -> bool:
        return self._value <= other._value

    def __gt__(self, other: Quantity) -> bool:
        return self._value > other._value

    def __ge__(self, other: Quantity) -> bool:
        return self._value >= other._value

    def __str__(self) -> str:
        return self._text or _canonical(self._value, self._format)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"


def _rounded_int(value: Decimal) -> int:
    if value >= INT64_MAX:
        return INT64_MAX
    if value <= INT64_MIN:
        return INT64_MIN
    whole = int(value)  # truncates toward zero
    if value != whole:
        whole += 1 if value > 0 else -1
    return whole


def _interpret(suffix: str) -> tuple[int, int, QuantityFormat]:
    """(base, exponent, format) a suffix stands for."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    match = _EXPONENT.fullmatch(suffix)
    # Length first: int() refuses very long digit strings, and any int32 has 10 digits.
    if (
        match is None
        or len(match[2]) > 10
        or abs(exponent := int(match[1] + match[2])) > _INT32_MAX
    ):
        raise QuantityError(SUFFIX_WRONG)
    return 10, exponent, DECIMAL_EXPONENT


def parse_quantity(text: str) -> Quantity:
    """Parses a quantity string; raises `QuantityError` with Kubernetes' message.

    No whitespace is allowed (see `quantity_from_json` for JSON values).
    """
    match = _SCAN.fullmatch(text)
    if not text or match is None:
        raise QuantityError(FORMAT_WRONG)
    sign, whole, fraction, suffix = match[1], match[2] or "0", match[3] or "", match[4]
    base, exponent, format = _interpret(suffix)
    digits = whole + fraction
    value = Decimal(f"{sign}{digits}E-{len(fraction)}")
    if base == 10:
        value = value.scaleb(exponent, _EXACT)
    else:
        value = _EXACT.multiply(value, Decimal(2**exponent))
    if not value:
        value = Decimal(0)
    elif _exponent(value) < -9:
        value = value.quantize(_NANO, context=_AWAY_FROM_ZERO)
    if format == BINARY_SI and abs(value) > INT64_MAX:
        value = Decimal(INT64_MAX).copy_sign(value)
    if format == BINARY_SI and 0 < abs(value) < 1:
        format = DECIMAL_SI
    quantity = Quantity(value, format)
    if _kept_verbatim(digits, fraction, exponent, format):
        quantity._text = text
    return quantity


def _kept_verbatim(digits: str, fraction: str, exponent: int, format: QuantityFormat) -> bool:
    """Whether Kubernetes' fast parse path caches the input as the printed form."""
    if format == BINARY_SI:
        if fraction or 15 - len(digits) - exponent * 3 // 10 - 1 < 0:
            return False
        whole = int(digits)
        return (whole << exponent) <= INT64_MAX and whole & 7 != 0
    scale = exponent - len(fraction)
    return (
        len(digits) <= 18
        and scale >= -9
        and scale % 3 == 0
        and not digits.endswith("000")
        and not digits.startswith("0")
    )


def quantity_from_json(value: object) -> Quantity:
    """A quantity from a decoded JSON value, as Kubernetes' `UnmarshalJSON` reads it.

    Strings are trimmed of surrounding whitespace, numbers are read from their
    text, null is zero; anything else raises `QuantityError`.
    """
    if value is None:
        return Quantity()
    if isinstance(value, str):
        return parse_quantity(value.strip())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_quantity(repr(value))
    raise QuantityError(FORMAT_WRONG)


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int), "quantities are finite"
    return exponent


def _canonical(value: Decimal, format: QuantityFormat) -> str:
    """Kubernetes' canonical form: no fraction, the largest suffix that loses nothing."""
    if not value:
        return "0"
    digits = "".join(map(str, value.as_tuple().digits))
    mantissa = digits.rstrip("0")  # as text: int() refuses very long digit strings
    exponent = _exponent(value) + len(digits) - len(mantissa)
    sign = "-" if value < 0 else ""
    if format == BINARY_SI:
        if abs(value) < 1024 or exponent < 0:
            format = DECIMAL_SI  # small or fractional values print in decimal SI
        elif exponent >= 70:  # divisible by 2^70: no binary suffix is big enough
            format = DECIMAL_EXPONENT
        else:
            whole = int(abs(value))
            power = ((whole & -whole).bit_length() - 1) // 10
            if power < len(_BINARY_BY_POWER):
                return f"{sign}{Decimal(whole >> 10 * power):f}{_BINARY_BY_POWER[power]}"
            format = DECIMAL_EXPONENT
    mantissa += "0" * (exponent % 3)  # make the exponent a multiple of three
    exponent -= exponent % 3
    if format == DECIMAL_SI and exponent in _SUFFIX_BY_EXPONENT:
        return f"{sign}{mantissa}{_SUFFIX_BY_EXPONENT[exponent]}"
    return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
