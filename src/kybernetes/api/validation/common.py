"""Building blocks shared by the object validators: reading decoded objects, common checks.

The object validators (`pod`, `workloads`, `service`...) work on JSON dicts that were
already decoded against their schema and defaulted, so every present value has its
schema type. These helpers read them the way Go reads the typed struct: a missing or
null field is the zero value (`""`, `0`, `{}`, `[]`), and a null list element is an
empty object. `semantic_equal` is Kubernetes' `apiequality.Semantic.DeepEqual` on such
dicts: a missing field equals its zero value (Go cannot tell them apart), which also
makes `false` equal to a missing optional boolean (a `*bool` Go would tell apart).

The checks return `FieldError` lists worded as `pkg/apis/core/validation` words them
(Kubernetes 1.32). Invariants: pure functions, no I/O, inputs are never mutated.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, Final

# A module reference, resolved at call time: `selectors` imports this package, and this
# form works whichever of the two is imported first.
from kybernetes.api import selectors
from kybernetes.api.quantity import Quantity, QuantityError, quantity_from_json
from kybernetes.api.validation.errors import FieldError, FieldPath, Printed, go_quote, invalid
from kybernetes.api.validation.metadata import FIELD_IMMUTABLE, IS_NEGATIVE
from kybernetes.api.validation.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_ip,
    regex_error,
)

Obj = Mapping[str, Any]
Errors = list[FieldError]

INT32_MAX: Final = 2**31 - 1
IS_NOT_POSITIVE: Final = "must be greater than zero"


def child(obj: Obj, key: str) -> Obj:
    """The object at `key`, or an empty one when it is missing or null."""
    value = obj.get(key)
    return value if isinstance(value, Mapping) else {}


def optional_child(obj: Obj, key: str) -> Obj | None:
    """The object at `key`, or None when it is missing or null (Go's nil pointer)."""
    value = obj.get(key)
    return value if isinstance(value, Mapping) else None


def children(obj: Obj, key: str) -> list[Obj]:
    """The list of objects at `key` (null elements read as empty objects)."""
    value = obj.get(key)
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, Mapping) else {} for item in value]


def text(obj: Obj, key: str) -> str:
    """The string at `key`, or `""`."""
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def texts(obj: Obj, key: str) -> list[str]:
    """The list of strings at `key`, or `[]`."""
    value = obj.get(key)
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def number(obj: Obj, key: str) -> int:
    """The integer at `key`, or 0."""
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def optional_number(obj: Obj, key: str) -> int | None:
    """The integer at `key`, or None when it is missing (Go's `*int32`)."""
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def string_map(obj: Obj, key: str) -> dict[str, str]:
    """The string map at `key` (labels, selectors, data), or `{}`."""
    value = obj.get(key)
    if not isinstance(value, Mapping):
        return {}
    return {k: v if isinstance(v, str) else "" for k, v in value.items()}


def go_string_map(obj: Obj, key: str) -> Printed:
    """The string map at `key` as Go's `%#v` prints a `map[string]string`, as 1.32 shows
    label maps in errors (`map[string]string{"app":"web"}`, keys sorted)."""
    value = obj.get(key)
    if not isinstance(value, Mapping):
        return Printed("map[string]string(nil)")
    entries = ", ".join(
        f"{go_quote(k)}:{go_quote(v)}" for k, v in sorted(string_map(obj, key).items())
    )
    return Printed(f"map[string]string{{{entries}}}")


def nonnegative(value: int, path: FieldPath) -> Errors:
    """`must be greater than or equal to 0`."""
    return [invalid(path, value, IS_NEGATIVE)] if value < 0 else []


def immutable(new: object, old: object, path: FieldPath) -> Errors:
    """`field is immutable` when `new` differs semantically from `old`."""
    return [] if semantic_equal(new, old) else [invalid(path, new, FIELD_IMMUTABLE)]


def dns_label(value: str, path: FieldPath) -> Errors:
    """An RFC 1123 label (container, port and volume names, hostnames)."""
    return [invalid(path, value, msg) for msg in is_dns1123_label(value)]


def dns_subdomain(value: str, path: FieldPath) -> Errors:
    """An RFC 1123 subdomain (object names referenced from specs)."""
    return [invalid(path, value, msg) for msg in is_dns1123_subdomain(value)]


def qualified_name(value: str, path: FieldPath) -> Errors:
    """A qualified name (`[prefix/]name`), as label keys are."""
    return [invalid(path, value, msg) for msg in is_qualified_name(value)]


def as_selector(selector: Obj | None) -> selectors.Selector | None:
    """A LabelSelector dict as a selector (`LabelSelectorAsSelector`), None if invalid.

    A missing (None) selector selects nothing, an empty one everything.
    """
    try:
        return selectors.label_selector_as_selector(selector)
    except selectors.SelectorError:
        return None


# ---------------------------------------------------------------------------
# Semantic equality


def _pruned(value: object) -> object:
    """`value` with Go's zero values dropped from objects, so absence equals zero."""
    if isinstance(value, Mapping):
        pruned = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if item not in (None, "", 0, [], {})}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


def semantic_equal(a: object, b: object) -> bool:
    """Kubernetes' semantic deep equality of two decoded values."""
    return _pruned(a) == _pruned(b)


def pruned(value: object) -> object:
    """A decoded value as Go holds it: zero-valued fields dropped (for printing)."""
    return _pruned(value)


# ---------------------------------------------------------------------------
# File paths


def no_backsteps(target: str, path: FieldPath) -> Errors:
    """No `..` element (`validatePathNoBacksteps`)."""
    if ".." in target.replace("\\", "/").split("/"):
        return [invalid(path, target, "must not contain '..'")]
    return []


def local_descending_path(target: str, path: FieldPath) -> Errors:
    """Relative and without `..` elements."""
    errors = [invalid(path, target, "must be a relative path")] if target.startswith("/") else []
    return errors + no_backsteps(target, path)


def local_non_reserved_path(target: str, path: FieldPath) -> Errors:
    """Relative, without `..` elements, not starting with `..`."""
    errors = local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        errors.append(invalid(path, target, "must not start with '..'"))
    return errors


# ---------------------------------------------------------------------------
# Addresses


def ip(value: str, path: FieldPath) -> Errors:
    """An IPv4 or IPv6 address (`validation.IsValidIP`)."""
    return [invalid(path, value, msg) for msg in is_valid_ip(value)]


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A valid (sloppy) address as Python's `ipaddress`, IPv4-mapped IPv6 unmapped."""
    if is_valid_ip(value):
        return None
    try:
        if ":" not in value:
            return ipaddress.IPv4Address(".".join(str(int(part)) for part in value.split(".")))
        head, _, last = value.rpartition(":")
        if "." in last:
            mapped = ipaddress.IPv4Address(".".join(str(int(part)) for part in last.split(".")))
            value = f"{head}:{mapped}"
        address = ipaddress.IPv6Address(value)
    except ValueError:  # forms Go also refuses, such as five-digit groups
        return None
    return address.ipv4_mapped or address


def is_ipv6(value: str) -> bool:
    """Whether a valid address is IPv6 (Go's `IsIPv6String`: not IPv4 or IPv4-mapped)."""
    return isinstance(parse_ip(value), ipaddress.IPv6Address)


def non_special_ip(value: str, path: FieldPath) -> Errors:
    """Not unspecified, loopback or link-local (`ValidateNonSpecialIP`)."""
    address = parse_ip(value)
    if address is None:
        return [invalid(path, value, "must be a valid IP address")]
    errors: Errors = []
    if address.is_unspecified:
        errors.append(invalid(path, value, f"may not be unspecified ({value})"))
    if address.is_loopback:
        errors.append(
            invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)")
        )
    if address.is_link_local and not address.is_multicast:
        detail = "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
        errors.append(invalid(path, value, detail))
    if _is_link_local_multicast(address):
        detail = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
        errors.append(invalid(path, value, detail))
    return errors


_LINK_LOCAL_MULTICAST_V4: Final = ipaddress.IPv4Network("224.0.0.0/24")


def _is_link_local_multicast(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv4Address):
        return address in _LINK_LOCAL_MULTICAST_V4
    return address.packed[0] == 0xFF and address.packed[1] & 0x0F == 0x02


def is_dual_stack(addresses: list[str]) -> bool:
    """Whether valid addresses hold at least one IPv4 and one IPv6 address."""
    families = {is_ipv6(address) for address in addresses}
    return families == {True, False}


_CIDR_ERROR: Final = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def parse_cidr_ip(value: str) -> str | None:
    """The address part of a valid (sloppy) CIDR, or None."""
    address, slash, prefix = value.partition("/")
    if not slash or not prefix.isascii() or not prefix.isdigit() or is_valid_ip(address):
        return None
    bits = 128 if ":" in address else 32
    return address if int(prefix) <= bits else None


def cidr(value: str, path: FieldPath) -> Errors:
    """A CIDR such as `10.9.8.0/24` (`validation.IsValidCIDR`)."""
    return [] if parse_cidr_ip(value) is not None else [invalid(path, value, _CIDR_ERROR)]


# ---------------------------------------------------------------------------
# Quantities and int-or-string values


def quantity(value: object) -> Quantity | None:
    """A decoded quantity, or None when it cannot be read."""
    try:
        return quantity_from_json(value)
    except QuantityError:
        return None


_PERCENT_FMT: Final = "[0-9]+%"
_PERCENT_RE: Final = re.compile(_PERCENT_FMT)


def percent_errors(value: str) -> list[str]:
    """`validation.IsValidPercent`."""
    if _PERCENT_RE.fullmatch(value):
        return []
    message = "a valid percent string must be a numeric string followed by an ending '%'"
    return [regex_error(message, _PERCENT_FMT, "1%", "93%")]


def int_or_percent_value(value: object) -> int:
    """The number an int-or-percent holds (Kubernetes' `getIntOrPercentValue`)."""
    if isinstance(value, str):
        return int(value[:-1]) if not percent_errors(value) else 0
    return value if isinstance(value, int) else 0


def positive_int_or_percent(value: object, path: FieldPath) -> Errors:
    """A non-negative integer or a percentage (`ValidatePositiveIntOrPercent`)."""
    if isinstance(value, str):
        return [invalid(path, value, msg) for msg in percent_errors(value)]
    if isinstance(value, int):
        return nonnegative(value, path)
    return [invalid(path, value, "must be an integer or percentage (e.g '5%%')")]


def not_more_than_100_percent(value: object, path: FieldPath) -> Errors:
    """A percentage may not exceed 100% (`IsNotMoreThan100Percent`)."""
    if isinstance(value, str) and not percent_errors(value) and int(value[:-1]) > 100:
        return [invalid(path, value, "must not be greater than 100%")]
    return []
