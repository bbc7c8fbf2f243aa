"""Container environment: `env` variables and `envFrom` sources.

The counterpart of `ValidateEnv`, `ValidateEnvFrom` and `validateEnvVarValueFrom` of
`pkg/apis/core/validation` (Kubernetes 1.32), with relaxed variable names (the
`RelaxedEnvironmentVariableValidation` gate is beta and on in 1.32): any printable
ASCII but `=`.

Invariants: pure functions.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.validation.common import Errors, Obj, child, text
from kybernetes.api.validation.downward import (
    validate_object_field_selector,
    validate_resource_field_selector,
)
from kybernetes.api.validation.errors import FieldPath, invalid, required
from kybernetes.api.validation.names import (
    empty_error,
    is_config_map_key,
    name_is_dns_subdomain,
)

_ENV_FIELD_PATHS: Final = (
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
    "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
    "status.podIPs",
)  # fmt: skip


def _relaxed_env_var_name(name: str) -> list[str]:
    """Kubernetes' `IsRelaxedEnvVarName`: printable ASCII other than `=`."""
    if any(not (" " <= char <= "~") or char == "=" for char in name):
        return [
            "a valid environment variable name must consist only of printable ASCII "
            "characters other than '='"
        ]
    return [] if name else ["environment variable name " + empty_error()]


def _key_selector(selector: Obj, path: FieldPath) -> Errors:
    name, key = text(selector, "name"), text(selector, "key")
    errors = [invalid(path.child("name"), name, msg) for msg in name_is_dns_subdomain(name, False)]
    if not key:
        return [*errors, required(path.child("key"))]
    return errors + [invalid(path.child("key"), key, msg) for msg in is_config_map_key(key)]


def validate_env(env: list[Obj], path: FieldPath) -> Errors:
    """A container's `env`: valid names, at most one value source each."""
    errors: Errors = []
    for index, var in enumerate(env):
        var_path = path.index(index)
        name = text(var, "name")
        if not name:
            errors.append(required(var_path.child("name")))
        else:
            errors += [
                invalid(var_path.child("name"), name, m) for m in _relaxed_env_var_name(name)
            ]
        if var.get("valueFrom") is None:
            continue
        source, source_path = child(var, "valueFrom"), var_path.child("valueFrom")
        count = 0
        if source.get("fieldRef") is not None:
            count += 1
            errors += validate_object_field_selector(
                child(source, "fieldRef"), _ENV_FIELD_PATHS, source_path.child("fieldRef")
            )
        if source.get("resourceFieldRef") is not None:
            count += 1
            errors += validate_resource_field_selector(
                child(source, "resourceFieldRef"), source_path.child("resourceFieldRef"), False
            )
        for key in ("configMapKeyRef", "secretKeyRef"):
            if source.get(key) is not None:
                count += 1
                errors += _key_selector(child(source, key), source_path.child(key))
        if not count:
            detail = (
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                "`secretKeyRef`"
            )
            errors.append(invalid(source_path, "", detail))
        elif text(var, "value"):
            errors.append(
                invalid(source_path, "", "may not be specified when `value` is not empty")
            )
        elif count > 1:
            detail = "may not have more than one field specified at a time"
            errors.append(invalid(source_path, "", detail))
    return errors


def validate_env_from(sources: list[Obj], path: FieldPath) -> Errors:
    """A container's `envFrom`: one ConfigMap or Secret each, valid prefixes."""
    errors: Errors = []
    for index, source in enumerate(sources):
        source_path = path.index(index)
        if prefix := text(source, "prefix"):
            errors += [
                invalid(source_path.child("prefix"), prefix, m)
                for m in _relaxed_env_var_name(prefix)
            ]
        count = 0
        for key in ("configMapRef", "secretRef"):
            if source.get(key) is None:
                continue
            count += 1
            name, name_path = text(child(source, key), "name"), source_path.child(key, "name")
            if not name:
                errors.append(required(name_path))
            else:
                errors += [invalid(name_path, name, m) for m in name_is_dns_subdomain(name, True)]
        if not count:
            errors.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            detail = "may not have more than one field specified at a time"
            errors.append(invalid(path, "", detail))
    return errors
