"""Syntax checks for names, keys and addresses, worded exactly as Kubernetes words them.

The counterpart of apimachinery's `util/validation` (Kubernetes 1.32). Each `is_*`
function returns the list of reasons its argument is invalid, in Kubernetes' order
and wording, and an empty list when it is valid; callers wrap the reasons into
`FieldError`s. The `name_is_*` functions are the name validators resources use for
`metadata.name` (and, with `prefix=True`, for `metadata.generateName`).

Invariants: pure functions of their arguments. Lengths are counted in UTF-8 bytes,
as Go's `len` counts them; regular expressions must match the whole string (Go's
`^...$`, which unlike Python's `$` accepts no trailing newline).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

DNS1123_LABEL_MAX_LENGTH: Final = 63
DNS1123_SUBDOMAIN_MAX_LENGTH: Final = 253
DNS1035_LABEL_MAX_LENGTH: Final = 63
LABEL_VALUE_MAX_LENGTH: Final = 63
QUALIFIED_NAME_MAX_LENGTH: Final = 63

NameValidator = Callable[[str, bool], list[str]]
"""Checks a resource name; the flag is true for a `generateName` prefix."""


def max_len_error(length: int) -> str:
    """The reason given for a string longer than `length`."""
    return f"must be no more than {length} characters"


def regex_error(message: str, pattern: str, *examples: str) -> str:
    """The reason given for a string that does not match `pattern`."""
    if not examples:
        return f"{message} (regex used for validation is '{pattern}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{pattern}')"


def empty_error() -> str:
    """The reason given for an empty string."""
    return "must be non-empty"


def inclusive_range_error(low: int, high: int) -> str:
    """The reason given for a number outside `[low, high]`."""
    return f"must be between {low} and {high}, inclusive"


def _byte_length(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))


_QUALIFIED_NAME_FMT: Final = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_MSG: Final = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_QUALIFIED_NAME_RE: Final = re.compile(_QUALIFIED_NAME_FMT)

_LABEL_VALUE_FMT: Final = f"({_QUALIFIED_NAME_FMT})?"
_LABEL_VALUE_MSG: Final = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)
_LABEL_VALUE_RE: Final = re.compile(_LABEL_VALUE_FMT)

_DNS1123_LABEL_FMT: Final = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG: Final = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
    "or '-', and must start and end with an alphanumeric character"
)
_DNS1123_LABEL_RE: Final = re.compile(_DNS1123_LABEL_FMT)

_DNS1123_SUBDOMAIN_FMT: Final = f"{_DNS1123_LABEL_FMT}(\\.{_DNS1123_LABEL_FMT})*"
_DNS1123_SUBDOMAIN_MSG: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_RE: Final = re.compile(_DNS1123_SUBDOMAIN_FMT)

_DNS1035_LABEL_FMT: Final = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MSG: Final = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)
_DNS1035_LABEL_RE: Final = re.compile(_DNS1035_LABEL_FMT)

_C_IDENTIFIER_FMT: Final = "[A-Za-z_][A-Za-z0-9_]*"
_C_IDENTIFIER_MSG: Final = (
    "a valid C identifier must start with alphabetic character or '_', "
    "followed by a string of alphanumeric characters or '_'"
)
_C_IDENTIFIER_RE: Final = re.compile(_C_IDENTIFIER_FMT)

_ENV_VAR_NAME_FMT: Final = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_ENV_VAR_NAME_MSG: Final = (
    "a valid environment variable name must consist of alphabetic characters, "
    "digits, '_', '-', or '.', and must not start with a digit"
)
_ENV_VAR_NAME_RE: Final = re.compile(_ENV_VAR_NAME_FMT)

_CONFIG_MAP_KEY_FMT: Final = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_MSG: Final = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
)
_CONFIG_MAP_KEY_RE: Final = re.compile(_CONFIG_MAP_KEY_FMT)

_PORT_NAME_CHARSET_RE: Final = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER_RE: Final = re.compile("[a-z]")


def is_qualified_name(value: str) -> list[str]:
    """A label key, annotation key or finalizer: `[prefix/]name`.

    The optional prefix is a DNS subdomain; the name has at most 63 characters.
    """
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part " + empty_error())
        else:
            errors.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    else:
        reason = regex_error(
            _QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"
        )
        return [
            f"a qualified name {reason} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part " + empty_error())
    elif _byte_length(name) > QUALIFIED_NAME_MAX_LENGTH:
        errors.append("name part " + max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        errors.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errors


def is_valid_label_value(value: str) -> list[str]:
    """A label value: empty, or at most 63 alphanumerics with inner `-_.`."""
    errors: list[str] = []
    if _byte_length(value) > LABEL_VALUE_MAX_LENGTH:
        errors.append(max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errors.append(
            regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errors


def is_dns1123_label(value: str) -> list[str]:
    """An RFC 1123 label: at most 63 lower case alphanumerics and inner `-`."""
    errors: list[str] = []
    if _byte_length(value) > DNS1123_LABEL_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        errors.append(regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errors


def is_dns1123_subdomain(value: str) -> list[str]:
    """An RFC 1123 subdomain: dot-separated labels, at most 253 characters."""
    errors: list[str] = []
    if _byte_length(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errors.append(regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def is_dns1035_label(value: str) -> list[str]:
    """An RFC 1035 label: like an RFC 1123 label, but starting with a letter."""
    errors: list[str] = []
    if _byte_length(value) > DNS1035_LABEL_MAX_LENGTH:
        errors.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errors.append(regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errors


def is_c_identifier(value: str) -> list[str]:
    """A C identifier (format only, any length)."""
    if _C_IDENTIFIER_RE.fullmatch(value):
        return []
    return [regex_error(_C_IDENTIFIER_MSG, _C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")]


def _chdir_prefix_errors(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


def is_env_var_name(value: str) -> list[str]:
    """A container environment variable name (`my.env-name`, `MY_ENV.NAME`)."""
    errors: list[str] = []
    if not _ENV_VAR_NAME_RE.fullmatch(value):
        errors.append(
            regex_error(
                _ENV_VAR_NAME_MSG, _ENV_VAR_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"
            )
        )
    return errors + _chdir_prefix_errors(value)


def is_config_map_key(value: str) -> list[str]:
    """A key of a ConfigMap's or Secret's data (it becomes a file name)."""
    errors: list[str] = []
    if _byte_length(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _CONFIG_MAP_KEY_RE.fullmatch(value):
        errors.append(
            regex_error(
                _CONFIG_MAP_KEY_MSG, _CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"
            )
        )
    return errors + _chdir_prefix_errors(value)


def is_valid_port_num(port: int) -> list[str]:
    """A non-zero TCP/UDP port number."""
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


def is_valid_port_name(port: str) -> list[str]:
    """An IANA service name: at most 15 of `[-a-z0-9]`, at least one letter."""
    errors: list[str] = []
    if _byte_length(port) > 15:
        errors.append(max_len_error(15))
    if not _PORT_NAME_CHARSET_RE.fullmatch(port):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER_RE.search(port):
        errors.append("must contain at least one letter (a-z)")
    if "--" in port:
        errors.append("must not contain consecutive hyphens")
    if port.startswith("-") or port.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def is_valid_ip(value: str) -> list[str]:
    """An IPv4 or IPv6 address, parsed as leniently as Kubernetes does.

    Like Kubernetes' `ParseIPSloppy`, IPv4 octets may carry leading zeros (read as
    decimal) and zones (`%eth0`) are refused.
    """
    if _is_ip_sloppy(value):
        return []
    return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]


_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


def _is_ipv4_sloppy(text: str) -> bool:
    octets = text.split(".")
    return len(octets) == 4 and all(
        octet.isascii() and octet.isdigit() and int(octet) <= 255 for octet in octets
    )


def _ipv6_groups(text: str) -> int | None:
    """How many 16-bit groups `text` spells (an IPv4 tail counts two); None if malformed."""
    if not text:
        return 0
    groups = text.split(":")
    *hex_groups, last = groups
    count = 0
    if "." in last:
        if not _is_ipv4_sloppy(last):
            return None
        count = 2
    else:
        hex_groups.append(last)
    for group in hex_groups:
        if not group or not set(group) <= _HEX_DIGITS or int(group, 16) > 0xFFFF:
            return None
    return count + len(hex_groups)


def _is_ip_sloppy(text: str) -> bool:
    colon, dot = text.find(":"), text.find(".")
    if colon < 0 or 0 <= dot < colon:
        return dot >= 0 and _is_ipv4_sloppy(text)
    head, ellipsis, tail = text.partition("::")
    if not ellipsis:
        return _ipv6_groups(text) == 8
    if "::" in tail or "." in head:
        return False
    before, after = _ipv6_groups(head), _ipv6_groups(tail)
    return before is not None and after is not None and before + after <= 7


def _mask_trailing_dash(name: str) -> str:
    # Kubernetes replaces the last two characters, not only the dash.
    return name[:-2] + "a" if name.endswith("-") else name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    """The name validator of most resources (ConfigMap, Pod, Deployment...)."""
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    """The name validator of Namespaces (and other names used as DNS labels)."""
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool) -> list[str]:
    """The name validator of Services."""
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


validate_namespace_name: Final[NameValidator] = name_is_dns_label
"""The check applied to `metadata.namespace` (a DNS-1123 label)."""
