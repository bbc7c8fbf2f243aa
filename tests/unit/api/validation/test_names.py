"""Name and key syntax checks, with Kubernetes' test tables and exact reasons."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kybernetes.api.validation.names import (
    is_c_identifier,
    is_config_map_key,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_qualified_name,
    is_valid_ip,
    is_valid_label_value,
    is_valid_port_name,
    is_valid_port_num,
    name_is_dns1035_label,
    name_is_dns_label,
    name_is_dns_subdomain,
    regex_error,
)

LABEL_1123 = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_1123 = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    r"used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
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

Check = Callable[[str], list[str]]

# Kubernetes' own tables (validation_test.go), by check.
# fmt: off
GOOD_VALUES: dict[Check, list[str]] = {
    is_dns1123_label: [
        "a", "ab", "abc", "a1", "a-1", "a--1--2--b", "0", "01", "012", "1a", "1-a", "1--a--b--2",
        "a" * 63,
    ],
    is_dns1123_subdomain: [
        "a", "ab", "a--1--2--b", "0", "1--a--b--2", "a.a", "ab.a", "a-1.a", "0.a", "01.a",
        "012.a", "1a.a", "a.1", "a.b.c.d.e", "aa.bb.cc.dd.ee", "1.2.3.4.5", "a" * 253,
    ],
    is_dns1035_label: ["a", "ab", "abc", "a1", "a-1", "a--1--2--b", "a" * 63],
    is_c_identifier: [
        "a", "ab", "abc", "a1", "_a", "a_", "a_b", "a_1", "a__1__2__b", "__abc_123",
        "A", "AB", "AbC", "A1", "_A", "A_", "A_B", "A_1", "A__1__2__B", "__123_ABC",
    ],
    is_qualified_name: [
        "simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple",
        "now-with-dashes/simple", "now-with-dashes/now-with-dashes", "now.with.dots/simple",
        "now-with.dashes-and.dots/simple", "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678",
        "Uppercase_Is_OK_123", "example.com/Uppercase_Is_OK_123", "requests.storage-foo",
        "a" * 63, "a" * 253 + "/" + "b" * 63,
    ],
    is_valid_label_value: [
        "simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", "a" * 63, "",
    ],
    is_valid_port_name: [
        "telnet", "re-mail-ck", "pop3", "a", "a-1", "1-a", "a-1-b-2-c", "1-a-2-b-3",
    ],
    is_env_var_name: [
        "A", "ABC", "AbC", "_", "_A", "A_B", "a.b", "my.env-name", "MY_ENV.NAME", "MyEnvName1",
        "-", "-abc", ".a",
    ],
    is_config_map_key: ["a", "ab", "abc", "a1", "_a", "a.b", "-a", ".a", "a-b_c.d", "a" * 253],
    is_valid_ip: [
        "1.1.1.1", "1.1.1.01", "255.0.0.1", "0.0.0.0", "::", "2001:4860:4860::8888",
        "::fff:1.1.1.1", "::1", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::",
        "1::2:3.4.5.6", "1:2:3:4:5:6:1.2.3.4", "2001:DB8::1", "00001::",
    ],
}
# fmt: on
GOOD = [(check, value) for check, values in GOOD_VALUES.items() for value in values]


@pytest.mark.parametrize(("check", "value"), GOOD)
def test_valid(check: Check, value: str) -> None:
    assert check(value) == []


# fmt: off
BAD_VALUES: dict[Check, list[str]] = {
    is_dns1123_label: [
        "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a",
        "a_b", ".", "a.", ".a", "a.b", "1.2", " ", "a ", " a", "a b", "a\n", "a" * 64,
    ],
    is_dns1123_subdomain: [
        "", "A", "aBc", "-", "a-", "-a", "_", "a_b", ".", "a.", ".a", "a..b", "1..2", " ", "a b",
        "A.a", "aB.a", "ab.A", "0.A", "a.B.c.d.e", "a@b", "a,b", "a;b", "a:b", "a%b", "a?b",
        "a$b", "a" * 254,
    ],
    is_dns1035_label: ["0", "01", "012", "1a", "1-a", "1--a--b--2", "", "A", "a-", "a.b", "a" * 64],
    is_c_identifier: [
        "", "1", "123", "1a", "-", "a-", "-a", "1-", "-1", "1_", "1_2", ".", "a.b", " ", "a b",
        "#a#",
    ],
    is_qualified_name: [
        "nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-", "only/one/slash",
        "Example.com/abc", "example_com/abc", "example.com/", "/simple", "a" * 64,
        "a" * 254 + "/abc", "",
    ],
    is_valid_label_value: [
        "nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes\\are\\bad",
        "-starts-with-dash", "ends-with-dash-", ".starts.with.dot", "ends.with.dot.", "a" * 64,
    ],
    is_valid_port_name: [
        "longerthan15characters", "", "a" * 16, "12345", "1-2-3-4", "-begin", "end-",
        "two--hyphens", "whois++",
    ],
    is_env_var_name: ["1", "1abc", "a b", "a=b", "", ".", "..", "..a"],
    is_config_map_key: ["", "a b", "a/b", ".", "..", "..a", "a" * 254],
    is_valid_ip: [
        "", "1", "1.1", "1.1.1", "1.1.1.1.1", "1.1.1.256", "1.1.1.1.", "1.1.1.", "1::2::3",
        "fe80::1%eth0", "1.2.3.4::", ":::", "1:::2", ":1::", "1:", "::1:", "1:2:3:4:5:6:7:8::",
        "1:2:3:4:5:6:7", "12345::", "::1.2.3.4:5", "a.b.c.d", "1:2:3:4:5:6::1.2.3.4", "::1.2.3",
        "x::",
        "\u0661.1.1.1",  # an Arabic-Indic digit is not a digit here
    ],
}
# fmt: on
BAD = [(check, value) for check, values in BAD_VALUES.items() for value in values]


@pytest.mark.parametrize(("check", "value"), BAD)
def test_invalid(check: Check, value: str) -> None:
    assert check(value) != []


@pytest.mark.parametrize(
    ("check", "value", "reasons"),
    [
        (is_dns1123_label, "Foo", [LABEL_1123]),
        (is_dns1123_label, "a.b", [LABEL_1123]),
        (is_dns1123_label, "a" * 64, ["must be no more than 63 characters"]),
        (is_dns1123_label, "A" * 64, ["must be no more than 63 characters", LABEL_1123]),
        (is_dns1123_subdomain, "Foo_bar", [SUBDOMAIN_1123]),
        (is_dns1123_subdomain, "a" * 254, ["must be no more than 253 characters"]),
        (is_dns1035_label, "1abc", [LABEL_1035]),
        (is_qualified_name, "Foo_", [NAME_PART]),
        (is_qualified_name, "", ["name part must be non-empty", NAME_PART]),
        (is_qualified_name, "/simple", ["prefix part must be non-empty"]),
        (is_qualified_name, "example.com/", ["name part must be non-empty", NAME_PART]),
        (is_qualified_name, "a" * 64, ["name part must be no more than 63 characters"]),
        (is_qualified_name, "Example.com/abc", ["prefix part " + SUBDOMAIN_1123]),
        (
            is_qualified_name,
            "only/one/slash",
            [
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
                "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                "'my.name',  or '123-abc', regex used for validation is "
                "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
                "prefix and '/' (e.g. 'example.com/MyName')"
            ],
        ),
        (is_valid_label_value, "-x", [LABEL_VALUE]),
        (is_valid_label_value, "a" * 64, ["must be no more than 63 characters"]),
        (is_valid_label_value, "é" * 32, ["must be no more than 63 characters", LABEL_VALUE]),
        (
            is_c_identifier,
            "1a",
            [
                "a valid C identifier must start with alphabetic character or '_', followed by "
                "a string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  "
                "or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')"
            ],
        ),
        (
            is_env_var_name,
            "..",
            ["must not be '..'"],
        ),
        (
            is_env_var_name,
            "1..",
            [
                "a valid environment variable name must consist of alphabetic characters, "
                "digits, '_', '-', or '.', and must not start with a digit (e.g. "
                "'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
                "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
            ],
        ),
        (is_config_map_key, "..a", ["must not start with '..'"]),
        (is_config_map_key, ".", ["must not be '.'"]),
        (
            is_valid_port_name,
            "-A--",
            [
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "must contain at least one letter (a-z)",
                "must not contain consecutive hyphens",
                "must not begin or end with a hyphen",
            ],
        ),
        (is_valid_port_name, "a" * 16, ["must be no more than 15 characters"]),
        (is_valid_ip, "1.2.3", ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]),
    ],
)
def test_reasons(check: Check, value: str, reasons: list[str]) -> None:
    assert check(value) == reasons


@pytest.mark.parametrize(("port", "valid"), [(1, True), (1000, True), (65535, True), (0, False)])
def test_port_numbers(port: int, valid: bool) -> None:
    assert is_valid_port_num(port) == ([] if valid else ["must be between 1 and 65535, inclusive"])


@pytest.mark.parametrize("port", [-1, 65536, 100000])
def test_port_numbers_out_of_range(port: int) -> None:
    assert is_valid_port_num(port) == ["must be between 1 and 65535, inclusive"]


def test_regex_error_without_examples() -> None:
    assert regex_error("bad", "[a-z]+") == "bad (regex used for validation is '[a-z]+')"


@pytest.mark.parametrize(
    ("validator", "name", "prefix", "valid"),
    [
        (name_is_dns_subdomain, "my.app", False, True),
        (name_is_dns_subdomain, "my-app-", False, False),
        (name_is_dns_subdomain, "my-app-", True, True),
        (name_is_dns_subdomain, "My-app-", True, False),
        (name_is_dns_subdomain, "a-", True, True),
        (name_is_dns_label, "web-", True, True),
        (name_is_dns_label, "my.app", False, False),
        (name_is_dns1035_label, "1web", False, False),
        (name_is_dns1035_label, "web-", True, True),
    ],
)
def test_name_validators(
    validator: Callable[[str, bool], list[str]], name: str, prefix: bool, valid: bool
) -> None:
    assert (validator(name, prefix) == []) is valid
