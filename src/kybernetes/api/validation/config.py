"""Configuration objects: ConfigMaps, Secrets and Namespaces.

The counterpart of `ValidateConfigMap`, `ValidateSecret`, `ValidateNamespace` and their
update rules in `pkg/apis/core/validation` (Kubernetes 1.32). Keys are config map keys,
the data of one object totals at most 1 MiB, a Secret's type decides which keys it
must hold and never changes, and an `immutable: true` object keeps its data.

A Secret's `stringData` is merged into `data` before validation, as Kubernetes'
conversion does, so its keys are reported under `data[...]`. `[]byte` values are read
from their base64 text.

Invariants: pure functions.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Final

from kybernetes.api.validation.common import Errors, Obj, child, semantic_equal, text, texts
from kybernetes.api.validation.errors import (
    FieldPath,
    forbidden,
    invalid,
    required,
    too_long,
)
from kybernetes.api.validation.names import is_config_map_key, is_qualified_name

MAX_SIZE: Final = 1024 * 1024
_IMMUTABLE: Final = "field is immutable when `immutable` is set"
_STANDARD_FINALIZERS: Final = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
_DATA: Final = FieldPath("data")


def _decoded(value: object) -> bytes:
    """A `[]byte` field's bytes (its JSON form is base64; CR and LF are ignored)."""
    if not isinstance(value, str):
        return b""
    try:
        return base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return value.encode()


def _key_errors(keys: list[str], path: FieldPath) -> Errors:
    return [invalid(path.key(key), key, msg) for key in keys for msg in is_config_map_key(key)]


def validate_config_map(config_map: Obj) -> Errors:
    """A ConfigMap: valid keys, no key in both bags, at most 1 MiB in total."""
    data: dict[str, Any] = dict(child(config_map, "data"))
    binary: dict[str, Any] = dict(child(config_map, "binaryData"))
    errors: Errors = []
    size = 0
    for key, value in data.items():
        errors += _key_errors([key], _DATA)
        if key in binary:
            errors.append(invalid(_DATA.key(key), key, "duplicate of key present in binaryData"))
        size += len(value.encode()) if isinstance(value, str) else 0
    for key, value in binary.items():
        errors += _key_errors([key], FieldPath("binaryData"))
        size += len(_decoded(value))
    if size > MAX_SIZE:
        # Kubernetes reports the whole object under an empty path, which prints as `[]`.
        errors.append(too_long(FieldPath().key(""), MAX_SIZE))
    return errors


def validate_config_map_update(new: Obj, old: Obj) -> Errors:
    """A ConfigMap update: an immutable ConfigMap keeps its data and stays immutable."""
    errors: Errors = []
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errors.append(forbidden(FieldPath("immutable"), _IMMUTABLE))
        for key in ("data", "binaryData"):
            if not semantic_equal(new.get(key), old.get(key)):
                errors.append(forbidden(FieldPath(key), _IMMUTABLE))
    return errors + validate_config_map(new)


def secret_data(secret: Obj) -> dict[str, bytes]:
    """A Secret's data as its bytes, with `stringData` merged over it."""
    data = {key: _decoded(value) for key, value in child(secret, "data").items()}
    for key, value in child(secret, "stringData").items():
        data[key] = value.encode() if isinstance(value, str) else b""
    return data


def _json_object_error(content: bytes) -> str | None:
    """Why `content` does not decode as a JSON object (Go's wording where it can)."""
    try:
        value = json.loads(content)
    except ValueError as error:
        return "unexpected end of JSON input" if not content.strip() else str(error)
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "bool"}.get(type(value), "number")
        if value is None:
            return None
        return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    return None


def _type_rules(secret: Obj, data: dict[str, bytes]) -> Errors:
    kind = text(secret, "type")
    if kind == "kubernetes.io/service-account-token":
        key = "kubernetes.io/service-account.name"
        if not text(child(child(secret, "metadata"), "annotations"), key):
            return [required(FieldPath("metadata", "annotations").key(key))]
    elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if kind == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            return [required(_DATA.key(key))]
        if reason := _json_object_error(data[key]):
            return [invalid(_DATA.key(key), "<secret contents redacted>", reason)]
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            return [required(_DATA.key("username")), required(_DATA.key("password"))]
    elif kind == "kubernetes.io/ssh-auth":
        if not data.get("ssh-privatekey"):
            return [required(_DATA.key("ssh-privatekey"))]
    elif kind == "kubernetes.io/tls":
        return [required(_DATA.key(key)) for key in ("tls.crt", "tls.key") if key not in data]
    return []


def validate_secret(secret: Obj) -> Errors:
    """A Secret: valid keys, at most 1 MiB of data, the keys its type requires."""
    data = secret_data(secret)
    errors = _key_errors(list(data), _DATA)
    if sum(map(len, data.values())) > MAX_SIZE:
        errors.append(too_long(_DATA, MAX_SIZE))
    return errors + _type_rules(secret, data)


def validate_secret_update(new: Obj, old: Obj) -> Errors:
    """A Secret update: the type never changes; an immutable Secret keeps its data."""
    errors: Errors = []
    if text(new, "type") != text(old, "type"):
        errors.append(invalid(FieldPath("type"), text(new, "type"), "field is immutable"))
    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errors.append(forbidden(FieldPath("immutable"), _IMMUTABLE))
        if secret_data(new) != secret_data(old):
            errors.append(forbidden(_DATA, _IMMUTABLE))
    return errors + validate_secret(new)


def validate_finalizer_name(name: str, path: FieldPath) -> Errors:
    """A qualified name, and a standard finalizer when it has no domain prefix."""
    errors = [invalid(path, name, msg) for msg in is_qualified_name(name)]
    if "/" not in name and name not in _STANDARD_FINALIZERS:
        detail = "name is neither a standard finalizer name nor is it fully qualified"
        errors.append(invalid(path, name, detail))
    return errors


def validate_namespace(namespace: Obj) -> Errors:
    """A Namespace: its spec finalizers have valid names."""
    path = FieldPath("spec", "finalizers")
    return [
        e
        for f in texts(child(namespace, "spec"), "finalizers")
        for e in validate_finalizer_name(f, path)
    ]


def validate_namespace_status_update(new: Obj) -> Errors:
    """A Namespace is Active until it is being deleted, then Terminating."""
    phase = text(child(new, "status"), "phase")
    path = FieldPath("status", "Phase")
    if not child(new, "metadata").get("deletionTimestamp"):
        if phase != "Active":
            return [invalid(path, phase, "may only be 'Active' if `deletionTimestamp` is empty")]
    elif phase != "Terminating":
        detail = "may only be 'Terminating' if `deletionTimestamp` is not empty"
        return [invalid(path, phase, detail)]
    return []
