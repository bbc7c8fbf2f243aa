"""The request side of field management: the apply body, the `fieldManager` and
`force` query parameters, and the manager name of writes that do not give one.

- `parse_apply_body`: an `application/apply-patch+yaml` body (YAML, or JSON, which is
  YAML) as sigs.k8s.io/yaml decodes it (see `yamlbody`), which must be an object.
  Failures are 400 "error decoding YAML: ..." with go-yaml's (libyaml's) wording.
- `validate_patch_options` / `validate_write_options`: 422 Invalid on PatchOptions,
  CreateOptions or UpdateOptions (kind `*.meta.k8s.io`), as apimachinery's
  `ValidatePatchOptions`: apply requires a fieldManager, force is only for apply, a
  fieldManager has at most 128 bytes, all printable.
- `manager_or_user_agent`: the fieldManager, else the User-Agent up to its first "/"
  ("kubectl/v1.32.0 (linux/amd64) ..." → "kubectl"), unprintable characters dropped,
  cut to 128 bytes.

Invariants: pure functions; errors are `StatusError`s with kube-apiserver's wording.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from kybernetes.api.validation.errors import FieldError, FieldPath, forbidden, required
from kybernetes.api.validation.metadata import FIELD_MANAGER_MAX_LENGTH, validate_field_manager
from kybernetes.apiserver.status import StatusCause, bad_request, invalid
from kybernetes.apiserver.yamlbody import decode_yaml

_META_GROUP: Final = "meta.k8s.io"
_GO_TYPES: Final = {list: "array", str: "string", bool: "bool", int: "number", float: "number"}


def parse_apply_body(body: bytes) -> dict[str, Any]:
    """The applied configuration in an apply request's body ({} for an empty one)."""
    decoded: Any
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        decoded = decode_yaml(body)
    if decoded is None:
        return {}
    if not isinstance(decoded, dict):
        kind = _GO_TYPES.get(type(decoded), "value")
        raise bad_request(
            "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: "
            f"cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
        )
    return decoded


def _raise_invalid(kind: str, errors: list[FieldError]) -> None:
    if errors:
        causes = [StatusCause(e.type.value, e.body(), e.field) for e in errors]
        raise invalid(kind, "", causes, _META_GROUP)


def validate_patch_options(field_manager: str, force: bool | None, *, apply: bool) -> None:
    """422 on PatchOptions: `force` (None: absent) is only for apply, which requires a
    fieldManager; the fieldManager must be valid."""
    errors = []
    if not apply and force is not None:
        errors.append(forbidden(FieldPath("force"), "may not be specified for non-apply patch"))
    if apply and not field_manager:
        errors.append(required(FieldPath("fieldManager"), "is required for apply patch"))
    errors += validate_field_manager(field_manager, FieldPath("fieldManager"))
    _raise_invalid("PatchOptions", errors)


def validate_write_options(kind: str, field_manager: str) -> None:
    """422 on `kind` ("CreateOptions" or "UpdateOptions") for an invalid fieldManager."""
    _raise_invalid(kind, validate_field_manager(field_manager, FieldPath("fieldManager")))


def manager_or_user_agent(field_manager: str, user_agent: str) -> str:
    """The manager a write is recorded under (kube-apiserver's `managerOrUserAgent`)."""
    if field_manager:
        return field_manager
    prefix, size = [], 0
    for char in user_agent.split("/", 1)[0]:
        if not char.isprintable():
            continue
        size += len(char.encode())
        if size > FIELD_MANAGER_MAX_LENGTH:
            break
        prefix.append(char)
    return "".join(prefix)
