"""The request side of field management: the apply body, the `fieldManager` and
`force` query parameters, and the manager name of writes that do not give one.

- `parse_apply_body`: an `application/apply-patch+yaml` body (YAML, or JSON, which is
  YAML) as sigs.k8s.io/yaml decodes it: YAML 1.1 scalars, timestamps kept as strings,
  non-string keys turned into strings, only the first document. Failures are 400
  "error decoding YAML: ..." with go-yaml's (libyaml's) wording.
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

import math
from typing import Any, Final

import orjson
import yaml

from kybernetes.api.validation.errors import FieldError, FieldPath, forbidden, required
from kybernetes.api.validation.metadata import FIELD_MANAGER_MAX_LENGTH, validate_field_manager
from kybernetes.apiserver.status import StatusCause, bad_request, invalid

_META_GROUP: Final = "meta.k8s.io"
_TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"
_GO_TYPES: Final = {list: "array", str: "string", bool: "bool", int: "number", float: "number"}


def _key(key: Any) -> str:
    """A YAML mapping key as sigs.k8s.io/yaml writes it into JSON."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return _go_float(key)
    return "null" if key is None else str(key)


def _go_float(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return str(int(number)) if number.is_integer() else repr(number)


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """YAML as go-yaml v2 reads it into `interface{}`: timestamps stay strings, keys of
    any type are distinct (and become strings)."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        self.flatten_mapping(node)
        return {
            _key(self.construct_object(key, deep=deep)): self.construct_object(value, deep=deep)
            for key, value in node.value
        }


_Loader.add_constructor(_TIMESTAMP, lambda loader, node: loader.construct_scalar(node))


def _jsonable(value: Any) -> Any:
    """A decoded YAML value as JSON (sigs.k8s.io/yaml's conversion)."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"json: unsupported value: {_go_float(value)}")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _yaml_message(error: yaml.YAMLError) -> str:
    """go-yaml's message for a parse error: `yaml: line 3: did not find expected key`."""
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem_mark is None:
        return f"yaml: {error}"
    line = error.problem_mark.line
    if line and isinstance(error, yaml.scanner.ScannerError):
        line += 1
    elif not line and error.context_mark is not None:
        line = error.context_mark.line
    where = f"line {line}: " if line else ""
    return f"yaml: {where}{error.problem or 'unknown problem parsing YAML content'}"


def parse_apply_body(body: bytes) -> dict[str, Any]:
    """The applied configuration in an apply request's body ({} for an empty one)."""
    decoded: Any
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            decoded = next(yaml.load_all(body, Loader=_Loader), None)
        except yaml.YAMLError as e:
            message = "error converting YAML to JSON: " + _yaml_message(e)
            raise bad_request(f"error decoding YAML: {message}") from None
    try:
        decoded = _jsonable(decoded)
    except ValueError as e:
        raise bad_request(f"error decoding YAML: error converting YAML to JSON: {e}") from None
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
