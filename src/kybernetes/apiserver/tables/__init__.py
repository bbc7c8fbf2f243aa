"""Server-side printing: the `meta.k8s.io` Tables `kubectl get` asks for.

kubectl sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...` and prints
the Table kube-apiserver returns: per-kind columns and cells computed on the server
(kube-apiserver 1.32's `pkg/printers/internalversion`), CRD printer columns
evaluated with client-go's JSONPath, or NAME/CREATED AT for kinds without a printer.

- `parse_table_accept(header)`: the negotiated `TableAccept` (Table apiVersion and
  response Content-Type), or None when the client did not ask for a Table.
- `table_for(info, objects, list_meta=...)`: the Table of a list or of one object.
- `watch_event_table(info, obj, first=...)`: the Table for one watch event's object.
- `check_include_object(value)`: validates the `includeObject` query parameter.
- `human_duration(delta)`: apimachinery's `duration.HumanDuration` ("5s", "3m2s").
"""

from .accept import TableAccept, parse_table_accept
from .convert import (
    PRINTERS,
    TABLE_GROUP_VERSION,
    check_include_object,
    table_for,
    watch_event_table,
)
from .duration import human_duration

__all__ = [
    "PRINTERS",
    "TABLE_GROUP_VERSION",
    "TableAccept",
    "check_include_object",
    "human_duration",
    "parse_table_accept",
    "table_for",
    "watch_event_table",
]
