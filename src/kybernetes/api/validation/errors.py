"""Field-level validation errors, worded exactly as Kubernetes words them.

The counterpart of apimachinery's `util/validation/field` (Kubernetes 1.32): a
`FieldPath` names the offending field (`spec.containers[0].image`,
`metadata.labels[app]`), a `FieldError` says what is wrong with it. `str(error)` is
what `field.Error.Error()` prints, `error.cause()` is the `StatusCause` an API server
puts in the details of a 422 `Status`, and `aggregate_message` is how a list of them
reads in that status' message.

Bad values are printed the way Go prints the typed value Kubernetes would hold:
strings quoted like Go's `%q`, `None` as `null`, lists of strings as
`[]string{"a", "b"}`; objects (which Go prints as structs) and anything else as
compact JSON; a `Printed` string verbatim.

Invariants: paths and errors are immutable values; building and printing them does
no I/O and never raises.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum, unique
from typing import Final


@unique
class ErrorType(StrEnum):
    """Why a field is invalid; the value is the StatusCause `reason`."""

    NOT_FOUND = "FieldValueNotFound"
    REQUIRED = "FieldValueRequired"
    DUPLICATE = "FieldValueDuplicate"
    INVALID = "FieldValueInvalid"
    NOT_SUPPORTED = "FieldValueNotSupported"
    FORBIDDEN = "FieldValueForbidden"
    TOO_LONG = "FieldValueTooLong"
    TOO_MANY = "FieldValueTooMany"
    INTERNAL = "InternalError"
    TYPE_INVALID = "FieldValueTypeInvalid"

    @property
    def message(self) -> str:
        """The human phrase that starts the error body (`Invalid value`...)."""
        return _MESSAGES[self]


_MESSAGES: Final = {
    ErrorType.NOT_FOUND: "Not found",
    ErrorType.REQUIRED: "Required value",
    ErrorType.DUPLICATE: "Duplicate value",
    ErrorType.INVALID: "Invalid value",
    ErrorType.NOT_SUPPORTED: "Unsupported value",
    ErrorType.FORBIDDEN: "Forbidden",
    ErrorType.TOO_LONG: "Too long",
    ErrorType.TOO_MANY: "Too many",
    ErrorType.INTERNAL: "Internal error",
    ErrorType.TYPE_INVALID: "Invalid value",
}

# Types whose body never shows the bad value.
_VALUE_HIDDEN: Final = frozenset(
    {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.INTERNAL}
)


class _Omitted:
    """The bad value of an error that must not print one."""

    def __repr__(self) -> str:
        return "OMITTED"


OMITTED: Final = _Omitted()


class Printed(str):
    """A bad value already printed the way Kubernetes prints it; shown verbatim."""


class FieldPath:
    """A path to a field, rendered the way `field.Path.String()` renders it.

    `FieldPath("spec").child("containers").index(0).child("image")` is
    `spec.containers[0].image`; `FieldPath("metadata", "labels").key("app")` is
    `metadata.labels[app]`. `FieldPath()` is Kubernetes' nil path: it prints as
    `<nil>`, and a child of it is a root. Immutable.
    """

    __slots__ = ("_text",)

    def __init__(self, *names: str) -> None:
        self._text = ".".join(names)

    @classmethod
    def of(cls, *parts: str | int) -> FieldPath:
        """Children for strings, indices for ints: `of("spec", "containers", 0)`."""
        path = cls()
        for part in parts:
            path = path.index(part) if isinstance(part, int) else path.child(part)
        return path

    def _extend(self, suffix: str) -> FieldPath:
        path = FieldPath()
        path._text = self._text + suffix
        return path

    def child(self, name: str, *more: str) -> FieldPath:
        """The path to a named sub-field (or a chain of them)."""
        path = self._extend(f".{name}" if self._text else name)
        return path.child(*more) if more else path

    def index(self, index: int) -> FieldPath:
        """The path to a list element: `containers[0]`."""
        return self._extend(f"[{index}]")

    def key(self, key: str) -> FieldPath:
        """The path to a map entry: `labels[app]`."""
        return self._extend(f"[{key}]")

    def __str__(self) -> str:
        return self._text or "<nil>"

    def __repr__(self) -> str:
        return f"FieldPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldPath) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field-level validation error (Kubernetes' `field.Error`).

    `field` is the rendered path; `bad_value` is `OMITTED` when the body must not
    show a value. Build errors with the constructors below (`invalid`, `required`...).
    """

    type: ErrorType
    field: str
    bad_value: object
    detail: str = ""

    def body(self) -> str:
        """The message without the field name (`field.Error.ErrorBody()`)."""
        text = self.type.message
        if self.type not in _VALUE_HIDDEN and self.bad_value is not OMITTED:
            text += ": " + format_value(self.bad_value)
        if self.detail:
            text += ": " + self.detail
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def cause(self) -> dict[str, str]:
        """This error as a `metav1.StatusCause` (empty members omitted, like Go)."""
        cause = {"reason": self.type.value, "message": self.body(), "field": self.field}
        return {name: value for name, value in cause.items() if value}


def required(path: FieldPath, detail: str = "") -> FieldError:
    """A required value is missing (`Required value`)."""
    return FieldError(ErrorType.REQUIRED, str(path), "", detail)


def invalid(path: FieldPath, value: object, detail: str) -> FieldError:
    """A malformed value (`Invalid value: "x": detail`)."""
    return FieldError(ErrorType.INVALID, str(path), value, detail)


def not_found(path: FieldPath, value: object) -> FieldError:
    """A referenced value does not exist (`Not found: "x"`)."""
    return FieldError(ErrorType.NOT_FOUND, str(path), value)


def duplicate(path: FieldPath, value: object) -> FieldError:
    """A value that must be unique is repeated (`Duplicate value: "x"`)."""
    return FieldError(ErrorType.DUPLICATE, str(path), value)


def not_supported(path: FieldPath, value: object, supported: Iterable[str]) -> FieldError:
    """A value outside an enumeration (`Unsupported value: "x": supported values: ...`)."""
    quoted = ", ".join(go_quote(choice) for choice in supported)
    return FieldError(
        ErrorType.NOT_SUPPORTED, str(path), value, f"supported values: {quoted}" if quoted else ""
    )


def forbidden(path: FieldPath, detail: str) -> FieldError:
    """A well-formed value that is not allowed here (`Forbidden: detail`)."""
    return FieldError(ErrorType.FORBIDDEN, str(path), "", detail)


def too_long(path: FieldPath, max_length: int) -> FieldError:
    """A value longer than `max_length` bytes; a negative limit is left unsaid."""
    detail = f"may not be more than {max_length} bytes" if max_length >= 0 else "value is too long"
    return FieldError(ErrorType.TOO_LONG, str(path), "<value omitted>", detail)


def too_many(path: FieldPath, actual: int, max_items: int) -> FieldError:
    """A list with too many items; negative numbers are left unsaid."""
    detail = f"must have at most {max_items} items" if max_items >= 0 else "has too many items"
    return FieldError(ErrorType.TOO_MANY, str(path), actual if actual >= 0 else OMITTED, detail)


def internal_error(path: FieldPath, error: BaseException | str) -> FieldError:
    """A failure not caused by the user's input (`Internal error: detail`)."""
    return FieldError(ErrorType.INTERNAL, str(path), None, str(error))


def type_invalid(path: FieldPath, value: object, detail: str) -> FieldError:
    """A value of the wrong type for its schema (`Invalid value: ...`)."""
    return FieldError(ErrorType.TYPE_INVALID, str(path), value, detail)


def aggregate_message(errors: Iterable[FieldError]) -> str:
    """The errors as Kubernetes aggregates them: one message, or `[a, b]`, duplicates dropped."""
    messages = list(dict.fromkeys(str(error) for error in errors))
    if len(messages) == 1:
        return messages[0]
    return f"[{', '.join(messages)}]" if messages else ""


_GO_ESCAPES: Final = {
    "\a": r"\a",
    "\b": r"\b",
    "\f": r"\f",
    "\n": r"\n",
    "\r": r"\r",
    "\t": r"\t",
    "\v": r"\v",
    '"': r"\"",
    "\\": r"\\",
}


def go_quote(text: str) -> str:
    """`text` quoted like Go's `strconv.Quote` (printable Unicode kept as is)."""
    out = ['"']
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif (code := ord(char)) < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _go_float(number: float) -> str:
    """A float as Go's `%v` prints it: shortest digits, `e` notation from 1e+06."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    exact = Decimal(repr(number))
    if exact == 0:
        return "-0" if math.copysign(1.0, number) < 0 else "0"
    if -4 <= exact.adjusted() < 6:
        return f"{exact:f}".removesuffix(".0")
    sign, digits, _ = exact.as_tuple()
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    if len(mantissa) > 1:
        mantissa = f"{mantissa[0]}.{mantissa[1:]}"
    return f"{'-' if sign else ''}{mantissa}e{exact.adjusted():+03d}"


def format_value(value: object) -> str:
    """A bad value printed the way Kubernetes prints the typed Go value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, Printed):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        if not value:
            return "[]string(nil)"
        return "[]string{" + ", ".join(go_quote(item) for item in value) + "}"
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
