"""Label selectors and field selectors, with Kubernetes' syntax, semantics and errors.

Label selectors (apimachinery `pkg/labels`, Kubernetes 1.32) come from the
`labelSelector` query parameter (`parse_label_selector("app=web,tier in (a,b),!x")`)
or from a `metav1.LabelSelector` object (`label_selector_as_selector`); both give
a `Selector`, a conjunction of `Requirement`s kept sorted by key. An empty
selector matches everything; `NOTHING` (a null LabelSelector) matches nothing.
`validate_label_selector` (from `validation.metadata`) checks a LabelSelector
object field by field.

Field selectors (`pkg/fields`) are conjunctions of `field=value`, `field==value`
and `field!=value` terms; in values `\\`, `,` and `=` are escaped with `\\`. A
missing field reads as the empty string. Which field names a resource supports is
the caller's business: `check_field_labels` raises Kubernetes' error for the rest.

Invariants: selectors and requirements are immutable values; parsing is pure and
raises `SelectorError` with Kubernetes' message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum, unique
from typing import Any, Final

from kybernetes.api.validation.errors import (
    FieldError,
    FieldPath,
    aggregate_message,
    go_quote,
    invalid,
)
from kybernetes.api.validation.metadata import (
    validate_label_selector as validate_label_selector,  # re-exported: selector objects
)
from kybernetes.api.validation.names import is_qualified_name, is_valid_label_value


class SelectorError(ValueError):
    """A selector that cannot be parsed or built; `errors` holds field errors, if any."""

    def __init__(self, message: str, errors: Iterable[FieldError] = ()) -> None:
        super().__init__(message)
        self.errors = tuple(errors)


@unique
class Operator(StrEnum):
    """Kubernetes' `selection.Operator` values."""

    IN = "in"
    NOT_IN = "notin"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    GREATER_THAN = "gt"
    LESS_THAN = "lt"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


_EXACT: Final = (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS)
_SET: Final = (Operator.IN, Operator.NOT_IN)
_ORDER: Final = (Operator.GREATER_THAN, Operator.LESS_THAN)
_PRESENCE: Final = (Operator.EXISTS, Operator.DOES_NOT_EXIST)
_EXACT_MATCH: Final = (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.IN)
_INT64: Final = re.compile(r"([+-]?)(0*+)([0-9]*)")


def _parse_int64(text: str) -> int | None:
    """`text` as Go's `strconv.ParseInt(text, 10, 64)` reads it, or None."""
    match = _INT64.fullmatch(text)
    if match is None or not (match[2] or match[3]) or len(match[3]) > 19:
        return None
    number = int(match[1] + (match[3] or "0"))
    return number if -(2**63) <= number < 2**63 else None


@dataclass(frozen=True, slots=True)
class Requirement:
    """`key <operator> values`; build it with `new_requirement` to get it validated."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label set satisfies this requirement (a missing key satisfies NotIn)."""
        op, present = self.operator, self.key in labels
        if op in (Operator.IN, Operator.EQUALS, Operator.DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if op in (Operator.NOT_IN, Operator.NOT_EQUALS):
            return not (present and labels[self.key] in self.values)
        if op in _PRESENCE:
            return present == (op is Operator.EXISTS)
        value = _parse_int64(labels[self.key]) if present else None
        bound = _parse_int64(self.values[0]) if len(self.values) == 1 else None
        if value is None or bound is None:
            return False
        return value > bound if op is Operator.GREATER_THAN else value < bound

    def __str__(self) -> str:
        if self.operator is Operator.EXISTS:
            return self.key
        if self.operator is Operator.DOES_NOT_EXIST:
            return "!" + self.key
        values = ",".join(sorted(self.values))
        if self.operator in _SET:
            values = f"({values})"
        return f"{self.key}{_SPELLING[self.operator]}{values}"


_SPELLING: Final = {
    Operator.IN: " in ",
    Operator.NOT_IN: " notin ",
    Operator.EQUALS: "=",
    Operator.DOUBLE_EQUALS: "==",
    Operator.NOT_EQUALS: "!=",
    Operator.GREATER_THAN: ">",
    Operator.LESS_THAN: "<",
}


_VALUE_COUNT_RULES: Final[tuple[tuple[tuple[Operator, ...], Callable[[int], bool], str], ...]] = (
    (_SET, lambda n: n > 0, "for 'in', 'notin' operators, values set can't be empty"),
    (_EXACT, lambda n: n == 1, "exact-match compatibility requires one single value"),
    (_PRESENCE, lambda n: n == 0, "values set must be empty for exists and does not exist"),
    (_ORDER, lambda n: n == 1, "for 'Gt', 'Lt' operators, exactly one value is required"),
)


def new_requirement(
    key: str, operator: Operator, values: Iterable[str] = (), path: FieldPath | None = None
) -> Requirement:
    """A validated requirement, or `SelectorError` listing every problem."""
    path = path or FieldPath()
    values = tuple(values)
    errors: list[FieldError] = []
    if key_errors := is_qualified_name(key):
        errors.append(invalid(path.child("key"), key, "; ".join(key_errors)))
    values_path = path.child("values")
    for operators, count_ok, detail in _VALUE_COUNT_RULES:
        if operator in operators and not count_ok(len(values)):
            errors.append(invalid(values_path, list(values), detail))
    if operator in _ORDER:
        detail = "for 'Gt', 'Lt' operators, the value must be an integer"
        errors += [
            invalid(values_path.index(index), value, detail)
            for index, value in enumerate(values)
            if _parse_int64(value) is None
        ]
    for index, value in enumerate(values):
        if value_errors := is_valid_label_value(value):
            errors.append(
                invalid(values_path.index(index).key(key), value, "; ".join(value_errors))
            )
    if errors:
        raise SelectorError(aggregate_message(errors), errors)
    return Requirement(key, operator, values)


@dataclass(frozen=True, slots=True)
class Selector:
    """A conjunction of label requirements, sorted by key.

    `selectable=False` is Kubernetes' `Nothing()` selector: it matches no labels.
    """

    requirements: tuple[Requirement, ...] = ()
    selectable: bool = True

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether every requirement holds for the label set."""
        return self.selectable and all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (matches every label set)."""
        return self.selectable and not self.requirements

    def add(self, *requirements: Requirement) -> Selector:
        """A new selector that also demands `requirements` (still sorted by key)."""
        if not self.selectable:
            return self
        merged = sorted((*self.requirements, *requirements), key=lambda r: r.key)
        return Selector(tuple(merged))

    def requires_exact_match(self, key: str) -> str | None:
        """The single value the selector demands for `key`, if it demands exactly one."""
        for requirement in self.requirements:
            if requirement.key == key:
                exact = requirement.operator in _EXACT_MATCH and len(requirement.values) == 1
                return requirement.values[0] if exact else None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements) if self.selectable else ""


EVERYTHING: Final = Selector()
NOTHING: Final = Selector(selectable=False)


# Tokens are (kind, text): the kind of an operator or keyword is its text.
_END: Final = "end"
_WORD: Final = "word"
_SYMBOLS: Final = frozenset({"(", ")", ",", "!", "=", "==", "!=", ">", "<"})
_KEYWORDS: Final = frozenset({"in", "notin"})
_OPERATORS: Final = {
    "in": Operator.IN,
    "notin": Operator.NOT_IN,
    "=": Operator.EQUALS,
    "==": Operator.DOUBLE_EQUALS,
    "!=": Operator.NOT_EQUALS,
    ">": Operator.GREATER_THAN,
    "<": Operator.LESS_THAN,
}
_SPECIAL: Final = frozenset("=!(),><")
_BLANK: Final = frozenset(" \t\r\n")
_WORD_END: Final = _SPECIAL | _BLANK | {"\0"}


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens up to and including END.

    As in Kubernetes, a NUL where a token would start ends the input, and a NUL
    right after a token is skipped.
    """
    tokens: list[tuple[str, str]] = []
    pos, size = 0, len(text)
    while True:
        while pos < size and text[pos] in _BLANK:
            pos += 1
        if pos >= size or text[pos] == "\0":
            return [*tokens, (_END, "")]
        start = pos
        if text[pos] in _SPECIAL:  # the longest operator spelled by the symbols here
            while pos < size and text[start : pos + 1] in _SYMBOLS:
                pos += 1
            tokens.append((text[start:pos], text[start:pos]))
        else:
            while pos < size and text[pos] not in _WORD_END:
                pos += 1
            word = text[start:pos]
            tokens.append((word if word in _KEYWORDS else _WORD, word))
        if pos < size and text[pos] == "\0":
            pos += 1


class _Parser:
    """Kubernetes' recursive-descent label selector parser over pre-lexed tokens."""

    def __init__(self, text: str) -> None:
        self._tokens = _lex(text)
        self._pos = 0

    def _peek(self, values: bool = True) -> tuple[str, str]:
        kind, text = self._tokens[self._pos]
        # Where values may appear, the keywords `in` and `notin` are plain words.
        return (_WORD if values and kind in _KEYWORDS else kind), text

    def _next(self, values: bool = True) -> tuple[str, str]:
        token = self._peek(values)
        self._pos += 1
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            kind, text = self._peek()
            if kind == _END:
                return requirements
            if kind not in (_WORD, "!"):
                raise SelectorError(f"found '{text}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self._requirement())
            except SelectorError as error:
                raise SelectorError(f"unable to parse requirement: {error}", error.errors) from None
            kind, text = self._next()
            if kind == _END:
                return requirements
            if kind != ",":
                raise SelectorError(f"found '{text}', expected: ',' or 'end of string'")
            kind, text = self._peek()
            if kind not in (_WORD, "!"):
                raise SelectorError(f"found '{text}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        kind, key = self._next()
        negated = kind == "!"
        if negated:
            kind, key = self._next()
        if kind != _WORD:
            raise SelectorError(f"found '{key}', expected: identifier")
        if key_errors := is_qualified_name(key):
            error = invalid(FieldPath(), key, "; ".join(key_errors))
            raise SelectorError(str(error), [error])
        if negated or self._peek()[0] in (_END, ","):
            return new_requirement(key, Operator.DOES_NOT_EXIST if negated else Operator.EXISTS)
        kind, text = self._next(values=False)
        if kind not in _OPERATORS:
            raise SelectorError(f"found '{text}', expected: in, notin, =, ==, !=, gt, lt")
        operator = _OPERATORS[kind]
        values = self._value_set() if operator in _SET else self._exact_value()
        return new_requirement(key, operator, sorted(values))

    def _value_set(self) -> set[str]:
        kind, text = self._next()
        if kind != "(":
            raise SelectorError(f"found '{text}' expected: '('")
        kind, text = self._peek()
        if kind == ")":
            self._next()
            return {""}
        if kind not in (_WORD, ","):
            raise SelectorError(f"found '{text}', expected: ',', ')' or identifier")
        values: set[str] = set()
        while True:  # a comma-separated list of (possibly empty) words, then `)`
            kind, text = self._next()
            if kind not in (_WORD, ","):
                raise SelectorError(f"found '{text}', expected: ',', or identifier")
            after, after_text = self._peek()
            if kind == _WORD:
                values.add(text)
                if after not in (",", ")"):
                    raise SelectorError(f"found '{after_text}', expected: ',' or ')'")
            else:
                if not values or after in (",", ")"):
                    values.add("")
                if after == ",":
                    self._next()
            if after == ")":
                self._next()
                return values

    def _exact_value(self) -> set[str]:
        if self._peek()[0] in (_END, ","):
            return {""}
        kind, text = self._next()
        if kind != _WORD:
            raise SelectorError(f"found '{text}', expected: identifier")
        return {text}


def parse_label_selector(text: str) -> Selector:
    """Parses a `labelSelector` string; raises `SelectorError` worded as Kubernetes does."""
    return EVERYTHING.add(*_Parser(text).parse())


def selector_from_set(labels: Mapping[str, str] | None) -> Selector:
    """A selector demanding exactly these labels, unvalidated (Kubernetes' `SelectorFromSet`)."""
    requirements = (Requirement(k, Operator.EQUALS, (v,)) for k, v in (labels or {}).items())
    return EVERYTHING.add(*requirements)


_SELECTOR_OPERATORS: Final = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def label_selector_as_selector(selector: Mapping[str, Any] | None) -> Selector:
    """A `metav1.LabelSelector` dict as a `Selector`: None matches nothing, `{}` everything."""
    if selector is None:
        return NOTHING
    match_labels: Mapping[str, str] = selector.get("matchLabels") or {}
    expressions: list[Mapping[str, Any]] = selector.get("matchExpressions") or []
    requirements = [new_requirement(k, Operator.EQUALS, [v]) for k, v in match_labels.items()]
    for expression in expressions:
        operator = _SELECTOR_OPERATORS.get(expression.get("operator") or "")
        if operator is None:
            shown = go_quote(expression.get("operator") or "")
            raise SelectorError(f"{shown} is not a valid pod selector operator")
        values = expression.get("values") or []
        requirements.append(new_requirement(expression.get("key") or "", operator, values))
    return EVERYTHING.add(*requirements)


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    """`field = value` (operator `=`) or `field != value` (operator `!=`)."""

    field: str
    operator: Operator
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether the (flattened) fields satisfy the term; a missing field reads as ``."""
        return (fields.get(self.field, "") == self.value) == (self.operator is Operator.EQUALS)

    def __str__(self) -> str:
        return f"{self.field}{self.operator.value}{escape_field_value(self.value)}"


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """A conjunction of field terms, in Kubernetes' (sorted term text) order."""

    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether every term holds."""
        return all(r.matches(fields) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything."""
        return not self.requirements

    def requires_exact_match(self, field: str) -> str | None:
        """The value an `=` term demands for `field`, if any (e.g. `spec.nodeName`)."""
        for requirement in self.requirements:
            if requirement.field == field and requirement.operator is Operator.EQUALS:
                return requirement.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def escape_field_value(value: str) -> str:
    """Escapes `\\`, `,` and `=` for use as a field selector value."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_field_value(value: str) -> str:
    """The literal a field selector value spells; raises `SelectorError` on bad escapes."""
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SelectorError(
                f"invalid field selector: unescaped character in value: {ord(char)}"
            )
        else:
            out.append(char)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    terms, start, escaped = [], 0, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:index])
            start = index + 1
    return [*terms, text[start:]] if text else []


_TERM: Final = re.compile(r"(.*?)(!=|==|=)(.*)", re.DOTALL)


def parse_field_selector(text: str) -> FieldSelector:
    """Parses a `fieldSelector` string; raises `SelectorError` worded as Kubernetes does."""
    requirements: list[FieldRequirement] = []
    for term in sorted(_split_terms(text)):
        if not term:
            continue
        match = _TERM.fullmatch(term)
        if match is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, raw = match.groups()
        value = unescape_field_value(raw)
        if field or value:  # Kubernetes drops a term with neither field nor value
            operator = Operator.NOT_EQUALS if op == "!=" else Operator.EQUALS
            requirements.append(FieldRequirement(field, operator, value))
    return FieldSelector(tuple(requirements))


def check_field_labels(selector: FieldSelector, supported: Collection[str]) -> None:
    """Raises Kubernetes' `field label not supported: X` for the first unsupported field."""
    for requirement in selector.requirements:
        if requirement.field not in supported:
            raise SelectorError(f"field label not supported: {requirement.field}")
