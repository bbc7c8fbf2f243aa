"""Semantic validation of API objects, with Kubernetes' rules and error wording.

`errors` holds the field error vocabulary (`FieldPath`, `FieldError` and their
constructors), `names` the syntax checks for names, keys and addresses, `metadata`
the `ObjectMeta` rules, and `objects` the per-kind rules of specs, updates and status
updates (`validate`, `validate_update`, `validate_status_update`), built from one
module per area (`pod`, `podspec`, `workloads`, `batch`, `service`...). The most used
names are re-exported here.
"""

from kybernetes.api.validation.errors import (
    ErrorType,
    FieldError,
    FieldPath,
    aggregate_message,
    duplicate,
    forbidden,
    internal_error,
    invalid,
    not_found,
    not_supported,
    required,
    too_long,
    too_many,
    type_invalid,
)
from kybernetes.api.validation.metadata import (
    validate_annotations,
    validate_label_selector,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from kybernetes.api.validation.names import (
    NameValidator,
    name_is_dns1035_label,
    name_is_dns_label,
    name_is_dns_subdomain,
)
from kybernetes.api.validation.objects import validate, validate_status_update, validate_update

__all__ = [
    "ErrorType",
    "FieldError",
    "FieldPath",
    "NameValidator",
    "aggregate_message",
    "duplicate",
    "forbidden",
    "internal_error",
    "invalid",
    "name_is_dns1035_label",
    "name_is_dns_label",
    "name_is_dns_subdomain",
    "not_found",
    "not_supported",
    "required",
    "too_long",
    "too_many",
    "type_invalid",
    "validate",
    "validate_annotations",
    "validate_label_selector",
    "validate_labels",
    "validate_object_meta",
    "validate_object_meta_update",
    "validate_status_update",
    "validate_update",
]
