"""Server-side apply and managed-fields tracking (kube-apiserver 1.32 semantics).

- `apply(live, applied, manager=, force=, schema=, now=)`: the object after an apply
  (PATCH with `application/apply-patch+yaml`), with its managedFields; 409 on conflicts.
- `track_update(old, new, manager=, schema=, now=)`: records in `new`'s managedFields
  who changed what in any other write (create, update, patch).
- `parse_apply_body`, `validate_patch_options`, `validate_write_options`,
  `manager_or_user_agent`: the request side (body, fieldManager, force).

Modules: `fieldpath` (field sets, FieldsV1), `managedfields` (entries), `typed`
(schema-aware field sets, comparison, merge, removal, validation), `update` (ownership
rules, non-apply writes), `apply` (the apply operation), `options` (request side).
"""

from __future__ import annotations

from .apply import BEFORE_FIRST_APPLY, LAST_APPLIED, apply, check_kind
from .fieldpath import FieldSet
from .managedfields import APPLY, UPDATE
from .options import (
    manager_or_user_agent,
    parse_apply_body,
    validate_patch_options,
    validate_write_options,
)
from .update import track_update

__all__ = [
    "APPLY",
    "BEFORE_FIRST_APPLY",
    "LAST_APPLIED",
    "UPDATE",
    "FieldSet",
    "apply",
    "check_kind",
    "manager_or_user_agent",
    "parse_apply_body",
    "track_update",
    "validate_patch_options",
    "validate_write_options",
]
