"""The downward API's values: pod fields and container resources as text.

Shared by environment variables (`envvars`) and `downwardAPI`/`projected` volumes
(`volumes`), exactly as Kubernetes' `pkg/fieldpath`, `ConvertDownwardAPIFieldLabel`
and `pkg/api/v1/resource` helpers render them:

- `metadata.labels` / `metadata.annotations` are `key="value"` lines sorted by key,
  values quoted like Go's `%q`; `metadata.labels['k']` is one value;
- resources (`limits.cpu`, `requests.memory`, `limits.ephemeral-storage`,
  `*.hugepages-<size>`) are divided by the divisor (default 1) and rounded up;
  cpu works in thousandths, the others in units; missing cpu/memory/ephemeral-storage
  limits default to the node's allocatable.

Invariants: every function is pure; errors are `ValueError`s with Kubernetes' text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from kybernetes.api.quantity import Quantity, QuantityError, quantity_from_json
from kybernetes.api.validation.names import is_qualified_name

Obj = Mapping[str, Any]

# Field labels `ConvertDownwardAPIFieldLabel` accepts for pods (after `spec.host`).
_POD_FIELD_LABELS: Final = frozenset({
    "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
    "metadata.uid", "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName",
    "spec.schedulerName", "status.phase", "status.hostIP", "status.hostIPs",
    "status.podIP", "status.podIPs",
})  # fmt: skip
# Limits that default to node allocatable for the downward API (hugepages never do).
_DEFAULTED_LIMITS: Final = ("cpu", "memory", "ephemeral-storage")
_GO_ESCAPES: Final = {
    "\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    "\v": "\\v", "\\": "\\\\", '"': '\\"',
}  # fmt: skip


def go_quote(text: str) -> str:
    """`text` as Go's `strconv.Quote` writes it (the `%q` verb)."""
    out = ['"']
    for char in text:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif (code := ord(char)) < 0x80:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:  # not valid UTF-8: Go writes the replacement rune
            out.append("\\ufffd")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def format_map(values: Mapping[str, str] | None) -> str:
    """Labels or annotations as the downward API shows them: sorted `k="v"` lines."""
    values = values or {}
    return "\n".join(f"{key}={go_quote(values[key])}" for key in sorted(values))


def split_subscripted(field_path: str) -> tuple[str, str] | None:
    """`metadata.labels['k']` → (`metadata.labels`, `k`); None without a subscript."""
    if not field_path.endswith("']"):
        return None
    path, sep, subscript = field_path[:-2].partition("['")
    if not sep or not path:
        return None
    return path, subscript


def convert_field_label(api_version: str, label: str) -> str:
    """The internal field path of a pod `fieldRef` (`ConvertDownwardAPIFieldLabel`)."""
    if api_version != "v1":
        raise ValueError(f"unsupported pod version: {api_version}")
    if (split := split_subscripted(label)) is not None:
        if split[0] in ("metadata.annotations", "metadata.labels"):
            return label
        raise ValueError(f"field label does not support subscript: {label}")
    if label == "spec.host":
        return "spec.nodeName"
    if label not in _POD_FIELD_LABELS:
        raise ValueError(f"field label not supported: {label}")
    return label


def object_field(pod: Obj, field_path: str) -> str:
    """A metadata field of `pod` as text (`fieldpath.ExtractFieldPathAsString`)."""
    metadata: Obj = pod.get("metadata") or {}
    if (split := split_subscripted(field_path)) is not None:
        path, key = split
        if path == "metadata.annotations":
            if errors := is_qualified_name(key.lower()):
                raise ValueError(f"invalid key subscript in {field_path}: {';'.join(errors)}")
            return str((metadata.get("annotations") or {}).get(key, ""))
        if path == "metadata.labels":
            if errors := is_qualified_name(key):
                raise ValueError(f"invalid key subscript in {field_path}: {';'.join(errors)}")
            return str((metadata.get("labels") or {}).get(key, ""))
        raise ValueError(f'fieldPath "{field_path}" does not support subscript')
    if field_path in ("metadata.annotations", "metadata.labels"):
        return format_map(metadata.get(field_path.removeprefix("metadata.")))
    if field_path in ("metadata.name", "metadata.namespace", "metadata.uid"):
        return str(metadata.get(field_path.removeprefix("metadata."), ""))
    raise ValueError(f"unsupported fieldPath: {field_path}")


def status_ips(pod: Obj, kind: str) -> list[str]:
    """The pod's `status.{kind}IPs` (kind `pod` or `host`), else `status.{kind}IP`."""
    status: Obj = pod.get("status") or {}
    ips = [str(entry.get("ip", "")) for entry in status.get(f"{kind}IPs") or ()]
    if not ips and status.get(f"{kind}IP"):
        ips = [str(status[f"{kind}IP"])]
    return ips


def _quantity(value: object) -> Quantity:
    try:
        return quantity_from_json(value)
    except QuantityError as error:
        raise ValueError(str(error)) from error


def find_container(pod: Obj, name: str) -> Obj:
    """The container (or init container) called `name`; ValueError if there is none."""
    spec: Obj = pod.get("spec") or {}
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or ():
            if container.get("name") == name:
                return container  # type: ignore[no-any-return]
    raise ValueError(f"container {name} not found")


def resource_value(
    selector: Obj, container: Obj, allocatable: Mapping[str, object] | None = None
) -> str:
    """`resourceFieldRef` of `container` as text, limits defaulted to `allocatable`."""
    resource = str(selector.get("resource", ""))
    divisor = _quantity(selector.get("divisor"))
    if not divisor:
        divisor = Quantity(1)
    kind, _, name = resource.partition(".")
    if kind not in ("limits", "requests") or not name:
        raise ValueError(f"unsupported container resource : {resource}")
    amounts: Mapping[str, object] = (container.get("resources") or {}).get(kind) or {}
    amount = _quantity(amounts.get(name))
    if kind == "limits" and not amount and name in _DEFAULTED_LIMITS and allocatable:
        amount = _quantity(allocatable.get(name))
    if name == "cpu":
        return str(_ceil_div(amount.milli_value(), divisor.milli_value()))
    if name in ("memory", "ephemeral-storage") or name.startswith("hugepages-"):
        return str(_ceil_div(amount.value(), divisor.value()))
    raise ValueError(f"unsupported container resource : {resource}")


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)
