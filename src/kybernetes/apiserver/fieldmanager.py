"""Who owns which fields: managedFields on every write, and server-side apply.

`FieldManager.of(request, registry, ...)` validates the request's `fieldManager` and
`force` as kube-apiserver does (422 on CreateOptions/UpdateOptions/PatchOptions) and
names the manager (the `fieldManager` parameter, else the User-Agent's product). It
then records each write in the object's `metadata.managedFields` (`track`) or
performs an apply (`apply`), with the kind's schema; custom resources without a
status subresource own their whole object through the main endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import apply as ssa
from .patch import APPLY_PATCH
from .registry import Registry, now_rfc3339
from .stored import Object

_TRUE = ("true", "1")


@dataclass(frozen=True, slots=True)
class FieldManager:
    """The manager of one write request, and the resource it writes."""

    manager: str
    force: bool
    registry: Registry

    @classmethod
    def of(cls, request: web.Request, registry: Registry, options_kind: str) -> FieldManager:
        """Validates the request's options; `options_kind` is "CreateOptions",
        "UpdateOptions" or "PatchOptions" (with `apply` when the body is an apply)."""
        field_manager = request.query.get("fieldManager", "")
        force_text = request.query.get("force")
        if options_kind == "PatchOptions":
            apply = request.content_type == APPLY_PATCH
            force = None if force_text is None else force_text in _TRUE
            ssa.validate_patch_options(field_manager, force, apply=apply)
        else:
            ssa.validate_write_options(options_kind, field_manager)
        manager = ssa.manager_or_user_agent(field_manager, request.headers.get("User-Agent", ""))
        return cls(manager, force_text in _TRUE, registry)

    @property
    def _reset_fields(self) -> list[list[str]] | None:
        """Custom resources without /status own their status through the main endpoint."""
        if self.registry.printer_columns is not None and not self.registry.strategy.has_status:
            return []
        return None

    def track(self, old: Object | None, new: Object, subresource: str = "") -> None:
        """Records in `new` that this manager wrote it over `old` (None: a create).

        A body that names no apiVersion or kind takes the endpoint's first, as
        kube-apiserver's decoder gives it them: the entry records the endpoint's version
        (an entry without one would fail every later apply)."""
        info = self.registry.info
        new["apiVersion"] = new.get("apiVersion") or info.group_version
        new["kind"] = new.get("kind") or info.kind
        ssa.track_update(
            old,
            new,
            manager=self.manager,
            schema=self.registry.schema,
            now=now_rfc3339(),
            subresource=subresource,
            reset_fields=self._reset_fields,
        )

    def apply(self, live: Object | None, applied: Object, subresource: str = "") -> Object:
        """The object after applying `applied` (409 on conflicts unless forced)."""
        info = self.registry.info
        if live is None:
            ssa.check_kind(applied, info.group_version, info.kind)
        result: dict[str, Any] = ssa.apply(
            live,
            applied,
            manager=self.manager,
            force=self.force,
            schema=self.registry.schema,
            now=now_rfc3339(),
            subresource=subresource,
            reset_fields=self._reset_fields,
        )
        return result
