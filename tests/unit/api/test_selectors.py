"""Label and field selectors: Kubernetes' parser tables, matching rules and error messages."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.selectors import (
    EVERYTHING,
    NOTHING,
    FieldSelector,
    Operator,
    Requirement,
    SelectorError,
    check_field_labels,
    escape_field_value,
    label_selector_as_selector,
    new_requirement,
    parse_field_selector,
    parse_label_selector,
    selector_from_set,
    unescape_field_value,
)
from kybernetes.api.validation.errors import FieldPath

NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.mark.parametrize(
    "text",
    ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"],
)
def test_parse_round_trips(text: str) -> None:
    assert str(parse_label_selector(text)) == text.replace(" ", "")


def test_parse_is_deterministic() -> None:
    assert str(parse_label_selector("x=a,a=x")) == str(parse_label_selector("a=x,x=a")) == "a=x,x=a"


def req(key: str, op: Operator, *values: str) -> Requirement:
    return Requirement(key, op, values)


IN, NOT_IN, EXISTS = Operator.IN, Operator.NOT_IN, Operator.EXISTS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("\rx", [req("x", EXISTS)]),
        (
            "this-is-a-dns.domain.com/key-with-dash",
            [req("this-is-a-dns.domain.com/key-with-dash", EXISTS)],
        ),
        ("x in (so,what)", [req("x", IN, "so", "what")]),
        (
            "0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
            [req("0.1.2.domain/99", NOT_IN, "10.10.100.1", "tick.tack.clock")],
        ),
        ("foo  in\t (abc)", [req("foo", IN, "abc")]),
        ("x notin\n (abc)", [req("x", NOT_IN, "abc")]),
        ("x  notin\t\t\t(abc,def)", [req("x", NOT_IN, "abc", "def")]),
        ("x in (abc,)", [req("x", IN, "", "abc")]),
        ("x in ()", [req("x", IN, "")]),
        ("x in (,,a)", [req("x", IN, "", "a")]),
        (
            "x notin (abc,def),bar,z in (),w",
            [
                req("bar", EXISTS),
                req("w", EXISTS),
                req("x", NOT_IN, "abc", "def"),
                req("z", IN, ""),
            ],
        ),
        ("x,y in (a)", [req("x", EXISTS), req("y", IN, "a")]),
        ("x=a", [req("x", Operator.EQUALS, "a")]),
        ("x==a", [req("x", Operator.DOUBLE_EQUALS, "a")]),
        ("x>1", [req("x", Operator.GREATER_THAN, "1")]),
        ("x<7", [req("x", Operator.LESS_THAN, "7")]),
        ("x=a,y!=b", [req("x", Operator.EQUALS, "a"), req("y", Operator.NOT_EQUALS, "b")]),
        ("x notin ( )", [req("x", NOT_IN, "")]),
        ("x notin (, a)", [req("x", NOT_IN, "", "a")]),
        ("a ", [req("a", EXISTS)]),
        ("a in (x,y,notin, z,in)", [req("a", IN, "in", "notin", "x", "y", "z")]),
        ("notin=in", [req("notin", Operator.EQUALS, "in")]),
        ("!in", [req("in", Operator.DOES_NOT_EXIST)]),
        ("a=b \0 garbage", [req("a", Operator.EQUALS, "b")]),
    ],
)
def test_parse(text: str, expected: list[Requirement]) -> None:
    assert list(parse_label_selector(text).requirements) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "x=a||y=b",
            f'unable to parse requirement: values[0][x]: Invalid value: "a||y": {LABEL_VALUE}',
        ),
        ("x==a==b", "found '==', expected: ',' or 'end of string'"),
        ("!x=a", "found '=', expected: ',' or 'end of string'"),
        (
            "x<a",
            "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
            "operators, the value must be an integer",
        ),
        (",x,y", "found ',', expected: !, identifier, or 'end of string'"),
        ("x,", "found '', expected: identifier after ','"),
        ("x,=", "found '=', expected: identifier after ','"),
        (
            "x nott in (y)",
            "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt",
        ),
        ("a in (xyz),", "found '', expected: identifier after ','"),
        ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"),
        ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"),
        ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
        ("a in (a,,)", "unable to parse requirement: found ')', expected: ',', or identifier"),
        ("a in (a,", "unable to parse requirement: found '', expected: ',', or identifier"),
        ("a in x", "unable to parse requirement: found 'x' expected: '('"),
        (
            "a (",
            "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt",
        ),
        ("(", "found '(', expected: !, identifier, or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("x=(", "unable to parse requirement: found '(', expected: identifier"),
        ("x=a b", "found 'b', expected: ',' or 'end of string'"),
        ("Foo_", f'unable to parse requirement: <nil>: Invalid value: "Foo_": {NAME_PART}'),
        (
            "x=-a",
            f'unable to parse requirement: values[0][x]: Invalid value: "-a": {LABEL_VALUE}',
        ),
        (
            "x>1a",
            "unable to parse requirement: values[0]: Invalid value: \"1a\": for 'Gt', 'Lt' "
            "operators, the value must be an integer",
        ),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as raised:
        parse_label_selector(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("text", "labels", "matches"),
    [
        ("", {"x": "y"}, True),
        ("x=y", {"x": "y"}, True),
        ("x=y,z=w", {"x": "y", "z": "w"}, True),
        ("x!=y,z!=w", {"x": "z", "z": "a"}, True),
        ("notin=in", {"notin": "in"}, True),
        ("x", {"x": "z"}, True),
        ("!x", {"y": "z"}, True),
        ("x>1", {"x": "2"}, True),
        ("x<1", {"x": "0"}, True),
        ("x<1", {"x": "-5"}, True),
        ("x=z", {}, False),
        ("x=y", {"x": "z"}, False),
        ("x=y,z=w", {"x": "w", "z": "w"}, False),
        ("x!=y,z!=w", {"x": "z", "z": "w"}, False),
        ("x", {"y": "z"}, False),
        ("!x", {"x": "z"}, False),
        ("x>1", {"x": "0"}, False),
        ("x<1", {"x": "2"}, False),
        ("x>1", {"x": "v2"}, False),
        ("x>1", {}, False),
        ("x notin (a)", {}, True),
        ("x notin (a)", {"x": "a"}, False),
        ("x in (a,b)", {"x": "b"}, True),
        ("x in ()", {"x": ""}, True),
        ("x in ()", {}, False),
        ("foo=bar,baz=blah", {"foo": "bar", "baz": "blah"}, True),
        ("foo=bar,foobar=bar,baz=blah", {"foo": "bar", "baz": "blah"}, False),
    ],
)
def test_matches(text: str, labels: dict[str, str], matches: bool) -> None:
    assert parse_label_selector(text).matches(labels) is matches


@pytest.mark.parametrize(
    ("requirement", "labels", "matches"),
    [
        (req("x", NOT_IN, ""), {"y": ""}, True),
        (req("x", Operator.DOES_NOT_EXIST), {"y": ""}, True),
        (req("y", EXISTS), {"y": ""}, True),
        (req("x", IN, ""), {"y": "baz"}, False),
        (req("z", Operator.GREATER_THAN, "1"), {"z": "2"}, True),
        (req("z", Operator.GREATER_THAN, "1", "2"), {"z": "3"}, False),  # malformed: no match
        (req("z", Operator.GREATER_THAN, "-0"), {"z": "+0001"}, True),
        (req("z", Operator.GREATER_THAN, "0"), {"z": "9223372036854775807"}, True),
        (req("z", Operator.GREATER_THAN, "0"), {"z": "9223372036854775808"}, False),
        (req("z", Operator.LESS_THAN, "0"), {"z": "-9223372036854775808"}, True),
        (req("z", Operator.LESS_THAN, "0"), {"z": "-"}, False),
        (req("z", Operator.LESS_THAN, "10"), {"z": "0" * 5000 + "1"}, True),
        (req("z", Operator.LESS_THAN, "10"), {"z": "1" * 5000}, False),
        (req("z", Operator.LESS_THAN, "10"), {"z": "1_0"}, False),
    ],
)
def test_requirement_matches(
    requirement: Requirement, labels: dict[str, str], matches: bool
) -> None:
    assert requirement.matches(labels) is matches


@pytest.mark.parametrize(
    ("key", "op", "values", "ok"),
    [
        ("x", IN, [], False),
        ("x", NOT_IN, [], False),
        ("x", IN, ["foo"], True),
        ("x", NOT_IN, ["foo"], True),
        ("x", EXISTS, [], True),
        ("x", Operator.DOES_NOT_EXIST, [], True),
        ("1foo", IN, ["bar"], True),
        ("1234", IN, ["bar"], True),
        ("y", Operator.GREATER_THAN, ["1"], True),
        ("z", Operator.LESS_THAN, ["6"], True),
        ("z", Operator.LESS_THAN, ["-5"], False),  # not a valid label value
        ("z", Operator.LESS_THAN, ["9223372036854775808"], False),
        ("foo", Operator.GREATER_THAN, ["bar"], False),
        ("barz", Operator.LESS_THAN, ["blah"], False),
        ("a" * 254, EXISTS, [], False),
        ("x", Operator.EQUALS, ["a", "b"], False),
        ("x", EXISTS, ["a"], False),
    ],
)
def test_new_requirement(key: str, op: Operator, values: list[str], ok: bool) -> None:
    if ok:
        assert new_requirement(key, op, values) == Requirement(key, op, tuple(values))
    else:
        with pytest.raises(SelectorError):
            new_requirement(key, op, values)


def test_new_requirement_reports_every_error() -> None:
    with pytest.raises(SelectorError) as raised:
        new_requirement("a_", Operator.EQUALS, ["-x", "y"], FieldPath("spec"))
    assert [str(e) for e in raised.value.errors] == [
        f'spec.key: Invalid value: "a_": {NAME_PART}',
        'spec.values: Invalid value: []string{"-x", "y"}: '
        "exact-match compatibility requires one single value",
        f'spec.values[0][a_]: Invalid value: "-x": {LABEL_VALUE}',
    ]
    assert str(raised.value).startswith("[spec.key: Invalid value:")


@pytest.mark.parametrize(
    ("requirements", "text"),
    [
        ([req("x", IN, "abc", "def"), req("y", NOT_IN, "jkl"), req("z", EXISTS)],
         "x in (abc,def),y notin (jkl),z"),
        ([req("x", NOT_IN, "def", "abc"), req("y", Operator.NOT_EQUALS, "jkl"),
          req("z", Operator.DOES_NOT_EXIST)],
         "x notin (abc,def),y!=jkl,!z"),
        ([req("x", NOT_IN, "abc"), req("y", IN, "jkl", "mno"), req("z", NOT_IN, "")],
         "x notin (abc),y in (jkl,mno),z notin ()"),
        ([req("x", Operator.EQUALS, "abc"), req("y", Operator.DOUBLE_EQUALS, "jkl"),
          req("z", Operator.NOT_EQUALS, "a"), req("z", EXISTS)],
         "x=abc,y==jkl,z!=a,z"),
        ([req("x", Operator.GREATER_THAN, "2"), req("y", Operator.LESS_THAN, "8"),
          req("z", EXISTS)],
         "x>2,y<8,z"),
    ],
)  # fmt: skip
def test_to_string(requirements: list[Requirement], text: str) -> None:
    assert str(EVERYTHING.add(*requirements)) == text


def test_everything_and_nothing() -> None:
    assert EVERYTHING.empty and EVERYTHING.matches({"x": "y"}) and str(EVERYTHING) == ""
    assert not NOTHING.empty and not NOTHING.matches({}) and str(NOTHING) == ""
    assert NOTHING.add(req("x", EXISTS)) is NOTHING


def test_add_keeps_keys_sorted() -> None:
    selector = EVERYTHING.add(req("key", IN, "value")).add(req("a", Operator.EQUALS, "b"))
    assert [r.key for r in selector.requirements] == ["a", "key"]


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("x=a,y=b", "x", "a"),
        ("x==a", "x", "a"),
        ("x in (a)", "x", "a"),
        ("x in (a,b)", "x", None),
        ("x!=a", "x", None),
        ("x=a", "y", None),
    ],
)
def test_requires_exact_match(text: str, key: str, value: str | None) -> None:
    assert parse_label_selector(text).requires_exact_match(key) == value


def test_selector_from_set() -> None:
    selector = selector_from_set({"foo": "bar", "baz": "blah"})
    assert str(selector) == "baz=blah,foo=bar"
    assert selector.matches({"foo": "bar", "baz": "blah", "x": "y"})
    assert not selector.matches({"foo": "bar"})
    assert selector_from_set({}).empty and selector_from_set(None).empty


@pytest.mark.parametrize(
    ("obj", "text", "labels", "matches"),
    [
        (None, "", {}, False),
        (None, "", {"app": "web"}, False),
        ({}, "", {"app": "web"}, True),
        ({"matchLabels": {}, "matchExpressions": []}, "", {}, True),
        ({"matchLabels": {"app": "web"}}, "app=web", {"app": "web", "x": "y"}, True),
        (
            {
                "matchLabels": {"foo": "bar"},
                "matchExpressions": [{"key": "baz", "operator": "In", "values": ["qux", "norf"]}],
            },
            "baz in (norf,qux),foo=bar",
            {"foo": "bar", "baz": "norf"},
            True,
        ),
        (
            {
                "matchExpressions": [
                    {"key": "tier", "operator": "NotIn", "values": ["db"]},
                    {"key": "app", "operator": "Exists"},
                    {"key": "legacy", "operator": "DoesNotExist", "values": []},
                ]
            },
            "app,!legacy,tier notin (db)",
            {"app": "x", "tier": "db"},
            False,
        ),
    ],
)
def test_label_selector_as_selector(
    obj: dict[str, Any] | None, text: str, labels: dict[str, str], matches: bool
) -> None:
    selector = label_selector_as_selector(obj)
    assert str(selector) == text
    assert selector.matches(labels) is matches


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Foo"}]},
            '"Foo" is not a valid pod selector operator',
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set "
            "can't be empty",
        ),
        ({"matchLabels": {"Foo_": "x"}}, f'key: Invalid value: "Foo_": {NAME_PART}'),
        ({"matchLabels": {"a": "-x"}}, f'values[0][a]: Invalid value: "-x": {LABEL_VALUE}'),
    ],
)
def test_label_selector_as_selector_errors(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectorError) as raised:
        label_selector_as_selector(obj)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "text",
    ["x=a,y=b,z=c", "", "x!=a,y=b", "x=a\\,b", "x=a\\=b", "x=a\\\\b", "x=", "metadata.name=web"],
)
def test_field_parse_round_trips(text: str) -> None:
    assert str(parse_field_selector(text)) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x=a", [("x", "=", "a")]),
        ("x==a", [("x", "=", "a")]),
        ("x!=a", [("x", "!=", "a")]),
        ("x!=\\=a", [("x", "!=", "=a")]),
        ("z=c,x=a,y=b", [("x", "=", "a"), ("y", "=", "b"), ("z", "=", "c")]),
        ("x=a\\,b,y=c", [("x", "=", "a,b"), ("y", "=", "c")]),
        ("x=a\\\\,y=c", [("x", "=", "a\\"), ("y", "=", "c")]),
        ("=b", [("", "=", "b")]),
        ("a=", [("a", "=", "")]),
        ("=", []),
        (",,x=a,", [("x", "=", "a")]),
        ("a b=c d", [("a b", "=", "c d")]),
    ],
)
def test_field_parse(text: str, expected: list[tuple[str, str, str]]) -> None:
    selector = parse_field_selector(text)
    assert [(r.field, r.operator.value, r.value) for r in selector.requirements] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x", "invalid selector: 'x'; can't understand 'x'"),
        ("x=a,y", "invalid selector: 'x=a,y'; can't understand 'y'"),
        ("x=a=b", "invalid field selector: unescaped character in value: 61"),
        ("x!==a", "invalid field selector: unescaped character in value: 61"),
        ("x=a\\b", "invalid field selector: invalid escape sequence: \\b"),
        ("x=a\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_field_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as raised:
        parse_field_selector(text)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("text", "fields", "matches"),
    [
        ("", {"a": "b"}, True),
        ("metadata.name=web", {"metadata.name": "web"}, True),
        ("metadata.name=web", {"metadata.name": "db"}, False),
        ("metadata.name!=web", {"metadata.name": "db"}, True),
        ("spec.nodeName=", {}, True),
        ("spec.nodeName!=", {}, False),
        ("spec.nodeName!=n1", {}, True),
        ("a=1,b=2", {"a": "1", "b": "2"}, True),
        ("a=1,b=2", {"a": "1", "b": "3"}, False),
    ],
)
def test_field_matches(text: str, fields: dict[str, str], matches: bool) -> None:
    assert parse_field_selector(text).matches(fields) is matches


def test_field_selector_introspection() -> None:
    selector = parse_field_selector("spec.nodeName=n1,status.phase!=Failed")
    assert selector.requires_exact_match("spec.nodeName") == "n1"
    assert selector.requires_exact_match("status.phase") is None
    assert not selector.empty and FieldSelector().empty
    check_field_labels(selector, {"spec.nodeName", "status.phase", "metadata.name"})
    with pytest.raises(SelectorError, match=r"^field label not supported: status\.phase$"):
        check_field_labels(selector, {"spec.nodeName"})


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("", ""),
        ("a", "a"),
        (",", "\\,"),
        ("=", "\\="),
        ("\\", "\\\\"),
        ("\\,=\\", "\\\\\\,\\=\\\\"),
    ],
)
def test_escaping(raw: str, escaped: str) -> None:
    assert escape_field_value(raw) == escaped
    assert unescape_field_value(escaped) == raw


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("\\", "invalid field selector: invalid escape sequence: \\"),
        ("\\a", "invalid field selector: invalid escape sequence: \\a"),
        (",", "invalid field selector: unescaped character in value: 44"),
        ("=", "invalid field selector: unescaped character in value: 61"),
    ],
)
def test_unescape_errors(value: str, message: str) -> None:
    with pytest.raises(SelectorError) as raised:
        unescape_field_value(value)
    assert str(raised.value) == message
