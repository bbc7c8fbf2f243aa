"""What every printer is made of: column definitions, the printer record, and the small
formatters kube-apiserver's printers share (labels, selectors, containers, quantities).

A `Printer` is one kind's entry of kube-apiserver's `printers.go`: its column
definitions and a `row` function computing one object's cells. Rows are computed as
kube-apiserver does with `GenerateOptions{Wide: true}` unless the context says
otherwise; a printer appends its priority-1 cells only when `ctx.wide`.

Column descriptions are the Go types' `SwaggerDoc()` strings, read from the official
OpenAPI definitions (`Doc("core.v1.PodStatus", "podIP")`); a field the definitions
lack describes as "" exactly as a missing SwaggerDoc key does. Printers for types
Kubernetes documents from a retired version (`extensions/v1beta1` ReplicaSetSpec...)
point at the served version's identical field.

Invariants: objects are read, never mutated; every formatter accepts missing or null
fields (an object the store holds may omit any defaulted field).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from kybernetes.api.quantity import QuantityError, quantity_from_json
from kybernetes.api.schema import definitions
from kybernetes.api.selectors import SelectorError, label_selector_as_selector, selector_from_set

Obj = Mapping[str, Any]
Cell = Any  # str | int | float | bool | None, as JSON carries it


@dataclass(frozen=True, slots=True)
class Doc:
    """A reference to a field's documentation: `Doc("core.v1.PodSpec", "nodeName")`;
    definitions under `meta.v1.` are apimachinery's."""

    definition: str
    field: str

    def text(self) -> str:
        group, _, rest = self.definition.partition(".")
        prefix = "io.k8s.apimachinery.pkg.apis." if group == "meta" else "io.k8s.api."
        schema = definitions().get(f"{prefix}{group}.{rest}", {})
        described: str = schema.get("properties", {}).get(self.field, {}).get("description", "")
        return described


@dataclass(frozen=True, slots=True)
class Column:
    """A `metav1.TableColumnDefinition`; priority 1 columns are `-o wide` only."""

    name: str
    type: str
    description: str | Doc
    format: str = ""
    priority: int = 0

    def definition(self) -> dict[str, Any]:
        description = self.description
        if isinstance(description, Doc):
            description = description.text()
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": description,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class PrintContext:
    """What a row depends on besides the object: the clock and the `-o wide` switch."""

    now: datetime
    wide: bool = True


Row = Callable[[Obj, PrintContext], list[Cell]]


@dataclass(frozen=True, slots=True)
class Printer:
    """One kind's table: its columns, its cells, and (pods only) row conditions.

    `sort_key`, when set, orders a list's rows (kube-apiserver sorts FlowSchemas)."""

    columns: tuple[Column, ...]
    row: Row
    conditions: Callable[[Obj], list[dict[str, str]] | None] | None = None
    sort_key: Callable[[Obj], Any] | None = None

    def column_definitions(self, wide: bool) -> list[dict[str, Any]]:
        """The `columnDefinitions`, without the priority-1 ones unless `wide`."""
        return [dict(_definition(c)) for c in self.columns if wide or c.priority == 0]


@functools.cache
def _definition(column: Column) -> dict[str, Any]:
    return column.definition()


_LOAD_BALANCER_WIDTH = 16
OBJECT_META = "meta.v1.ObjectMeta"
NAME: Final = Column("Name", "string", Doc(OBJECT_META, "name"), format="name")
AGE: Final = Column("Age", "string", Doc(OBJECT_META, "creationTimestamp"))
CONTAINERS: Final = Column(
    "Containers", "string", "Names of each container in the template.", priority=1
)
IMAGES: Final = Column(
    "Images", "string", "Images referenced by each container in the template.", priority=1
)


def dig(obj: object, *path: str | int) -> Any:
    """`obj[path[0]][path[1]]...`, or None as soon as a step is missing or null."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or not -len(obj) <= step < len(obj):
                return None
            obj = obj[step]
        elif isinstance(obj, Mapping):
            obj = obj.get(step)
        else:
            return None
    return obj


def items(obj: object, *path: str | int) -> list[Any]:
    """The list at `path`, or []."""
    found = dig(obj, *path)
    return found if isinstance(found, list) else []


def mapping(obj: object, *path: str | int) -> Mapping[str, Any]:
    """The map at `path`, or {}."""
    found = dig(obj, *path)
    return found if isinstance(found, Mapping) else {}


def text(obj: object, *path: str | int) -> str:
    """The string at `path`, or ""."""
    found = dig(obj, *path)
    return found if isinstance(found, str) else ""


def integer(obj: object, *path: str | int, default: int = 0) -> int:
    """The integer at `path`, or `default`."""
    found = dig(obj, *path)
    return found if isinstance(found, int) and not isinstance(found, bool) else default


def name_of(obj: Obj) -> str:
    return text(obj, "metadata", "name")


def created(obj: Obj) -> object:
    return dig(obj, "metadata", "creationTimestamp")


def deleting(obj: Obj) -> bool:
    return dig(obj, "metadata", "deletionTimestamp") is not None


def format_labels(labels: object) -> str:
    """`labels.FormatLabels`: sorted `k=v` pairs joined by commas, `<none>` if empty."""
    pairs = labels if isinstance(labels, Mapping) else {}
    return str(selector_from_set(pairs)) or "<none>"


def format_label_selector(selector: object) -> str:
    """`metav1.FormatLabelSelector`: the selector's string, `<none>` if it selects
    everything or nothing, `<error>` if it is invalid."""
    try:
        shown = str(label_selector_as_selector(_selector_or_none(selector)))
    except SelectorError:
        return "<error>"
    return shown or "<none>"


def selector_string(selector: object) -> str:
    """`LabelSelectorAsSelector(...).String()`, `<invalid>` on error (deployments)."""
    try:
        return str(label_selector_as_selector(_selector_or_none(selector)))
    except SelectorError:
        return "<invalid>"


def _selector_or_none(selector: object) -> Mapping[str, Any] | None:
    return selector if isinstance(selector, Mapping) else None


def layout_containers(containers: Iterable[Any]) -> tuple[str, str]:
    """`layoutContainerCells`: the containers' names and images, comma-separated."""
    listed = [c for c in containers if isinstance(c, Mapping)]
    return (",".join(text(c, "name") for c in listed), ",".join(text(c, "image") for c in listed))


def template_containers(obj: Obj, *path: str) -> tuple[str, str]:
    """`layout_containers` of the pod template at `path` (e.g. "spec", "template")."""
    return layout_containers(items(obj, *path, "spec", "containers"))


def quantity(value: object) -> str:
    """`Quantity.String()` of a serialized quantity; absent is "0"."""
    try:
        return str(quantity_from_json(value))
    except QuantityError:
        return str(value)


def int_or_string(value: object) -> str:
    """`intstr.IntOrString.String()`."""
    return str(value) if isinstance(value, int | str) and not isinstance(value, bool) else "0"


def bool_ptr(value: object) -> str:
    """`printBoolPtr`: `True`/`False`, or `<unset>`."""
    return "<unset>" if not isinstance(value, bool) else str(value)


def join_host_port(host: str, port: object) -> str:
    """Go's `net.JoinHostPort`: an IPv6 (any host with a colon) is bracketed."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def list_with_more(values: Sequence[str], count: int, limit: int, empty: str = "<unset>") -> str:
    """`listWithMoreString`: the first `limit` values, then ` + N more...`."""
    shown = ",".join(values[:limit])
    if count > limit:
        return f"{shown} + {count - limit} more..."
    return shown or empty


def load_balancer_status(status: Obj, wide: bool) -> str:
    """`loadBalancerStatusStringer`: sorted unique IPs (else hostnames), clipped to 16
    characters unless wide."""
    found = {
        text(i, "ip") or text(i, "hostname")
        for i in items(status, "ingress")
        if text(i, "ip") or text(i, "hostname")
    }
    shown = ",".join(sorted(found))
    if not wide and len(shown) > _LOAD_BALANCER_WIDTH:
        shown = shown[: _LOAD_BALANCER_WIDTH - 3] + "..."
    return shown
