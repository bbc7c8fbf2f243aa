"""Generic REST storage: create, get, list, update and delete for any resource.

The counterpart of kube-apiserver's generic registry store. Reads come from the
`WatchCache` once it has caught up with the store (consistent reads), or from the
store itself for an exact older revision or a later page of a paginated list. Writes
go to the store with compare-and-swap on the resource version, through the kind's
`Strategy` (reset, keep, bump generation, validate).

Invariants:
- `metadata.resourceVersion` is the store revision of the object's last write; an
  update carrying one writes only if the object is still at that version (409
  otherwise); one without it retries against fresh state.
- An update that changes nothing writes nothing and returns the stored object.
- A delete of an object with finalizers (or a graceful delete) only sets
  `deletionTimestamp`; the object goes when its last finalizer is removed.
- `dry_run` runs every check and returns the result without writing.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from kybernetes.api.conversion import Converter
from kybernetes.api.resources import ResourceInfo
from kybernetes.api.schemanode import SchemaNode
from kybernetes.api.validation.errors import FieldError
from kybernetes.store import Conflict, KeyExists, KeyNotFound, KeyValue, Store

from . import status
from .admission import Admit
from .allocator import AllocationError
from .status import StatusCause, StatusError
from .stored import Object, StoredObject, collection_prefix, encode_for_store, object_key
from .strategy import Strategy
from .watchcache import WatchCache

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


class NamespaceTerminating(Exception):
    """Raised by `Registry.namespace_exists` for a namespace being deleted."""


class WriteHooks(Protocol):
    """Side effects of a kind's writes (allocations), each undone if the write fails."""

    async def before_create(self, obj: Object) -> Undo: ...

    async def before_update(self, new: Object, old: Object) -> Undo: ...

    async def after_update(self, new: Object, old: Object) -> None: ...

    async def after_delete(self, obj: Object) -> None: ...


Undo = Callable[[], Awaitable[None]]

Mutation = Callable[[Object], Object]
"""Computes an update's new object from a copy of the current one (patch, apply)."""


def now_rfc3339(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


_MAX_GRACE_SECONDS = (2**63 - 1) // 10**9  # the longest Go time.Duration, ~292 years


def _grace_delta(grace_seconds: int) -> timedelta:
    """A grace period as a time span, saturated at the longest Go `time.Duration`, so
    that any int64 grace period gives a valid deletionTimestamp."""
    bounded = max(-_MAX_GRACE_SECONDS, min(grace_seconds, _MAX_GRACE_SECONDS))
    return timedelta(seconds=bounded)


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    """The parts of `metav1.DeleteOptions` the registry acts on."""

    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    precondition_uid: str | None = None
    precondition_resource_version: str | None = None
    dry_run: bool = False


@dataclass(slots=True)
class Registry:
    """REST storage of one resource (one row of the resource table)."""

    info: ResourceInfo
    strategy: Strategy
    store: Store
    cache: WatchCache
    namespace_exists: Callable[[str], Awaitable[None]] | None = None
    """Raises 404/403 unless a namespace exists and is not terminating."""
    hooks: WriteHooks | None = None
    admit: Admit | None = None
    """Admission of creates and main-resource updates (see `admission`), run after
    defaulting and before validation."""
    schema: SchemaNode | None = None
    """The kind's schema for decoding and patching (None: a schemaless custom resource)."""
    converter: Converter | None = None
    """How objects differ between the served and the stored version (events.k8s.io)."""
    printer_columns: list[dict[str, Any]] | None = None
    """A custom resource version's additionalPrinterColumns ([] if none; None: built-in)."""

    # --- keys and errors -----------------------------------------------------------

    @property
    def storage_prefix(self) -> str:
        assert self.info.storage is not None
        return self.info.storage.prefix

    def key(self, namespace: str, name: str) -> str:
        return object_key(self.storage_prefix, namespace if self.info.namespaced else "", name)

    def prefix(self, namespace: str = "") -> str:
        return collection_prefix(self.storage_prefix, namespace if self.info.namespaced else "")

    def not_found(self, name: str) -> StatusError:
        return status.not_found(self.info.plural, name, self.info.group)

    def conflict(self, name: str, reason: str = _MODIFIED) -> StatusError:
        return status.conflict(self.info.plural, name, reason, self.info.group)

    def invalid(self, name: str, errors: list[FieldError]) -> StatusError:
        causes = [StatusCause(e.type.value, e.body(), e.field) for e in errors]
        return status.invalid(self.info.kind, name, causes, self.info.group)

    # --- reads ---------------------------------------------------------------------

    def cached(self, namespace: str = "") -> list[StoredObject]:
        """The cache's objects of this resource (in one namespace), in key order."""
        objects = self.cache.list(
            self.prefix(), namespaced=self.info.namespaced, namespace=namespace
        )
        return objects if self.converter is None else [self.present(o) for o in objects]

    # --- stored and served forms (the same but for converted kinds) ---------------

    def present(self, obj: StoredObject) -> StoredObject:
        """An object read from the store (or the cache) in the served version's form."""
        if self.converter is None:
            return obj
        return StoredObject.unsaved(obj.key, self.converter.from_storage(obj.obj), obj.revision)

    def decoded(self, kv: KeyValue) -> StoredObject:
        """A store entry as this resource serves it."""
        return self.present(StoredObject.from_kv(kv))

    def encoded(self, obj: Object) -> bytes:
        """The bytes to store for an object in the served form."""
        if self.converter is not None:
            obj = self.converter.to_storage(obj)
        return encode_for_store(obj)

    async def get(self, namespace: str, name: str) -> StoredObject:
        """The object now (a consistent read); 404 if absent."""
        found = await self._read(self.key(namespace, name))
        if found is None:
            raise self.not_found(name)
        return found

    async def _read(self, key: str) -> StoredObject | None:
        """A consistent read of one key: from the watch cache once it holds every write
        acknowledged so far, else (the cache lags) from the store."""
        try:
            await self.cache.wait_fresh()
            cached = self.cache.get(key)
            return None if cached is None else self.present(cached)
        except TimeoutError:
            kv = await self.store.get(key)
            return self.decoded(kv) if kv else None

    # --- writes --------------------------------------------------------------------

    def check_identity(self, obj: Object, namespace: str, name: str | None = None) -> None:
        """400 unless the body's kind, apiVersion, namespace (and name) fit the URL."""
        info = self.info
        if obj.get("apiVersion") not in (None, "", info.group_version):
            raise status.bad_request(
                f"the API version in the data ({obj['apiVersion']}) does not match the "
                f"expected API version ({info.group_version})"
            )
        if obj.get("kind") not in (None, "", info.kind):
            raise status.bad_request(
                f"the kind in the data ({obj['kind']}) does not match the expected kind "
                f"({info.kind})"
            )
        obj["apiVersion"], obj["kind"] = info.group_version, info.kind
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if info.namespaced:
            if meta.get("namespace") not in (None, "", namespace):
                raise status.bad_request(
                    "the namespace of the provided object does not match the namespace "
                    "sent on the request"
                )
            meta["namespace"] = namespace
        if name is not None and meta.get("name") not in (None, "", name):
            raise status.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        if name is not None:
            meta["name"] = name

    async def create(self, namespace: str, obj: Object, *, dry_run: bool = False) -> StoredObject:
        """Creates the object (201); 409 AlreadyExists, 422 Invalid, 404 namespace."""
        self.check_identity(obj, namespace)
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(
                secrets.choice(_NAME_CHARS) for _ in range(5)
            )
        meta.pop("resourceVersion", None)
        meta.pop("deletionTimestamp", None)
        meta.pop("deletionGracePeriodSeconds", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        self.strategy.prepare_for_create(obj)
        name = meta.get("name") or ""
        if self.admit is not None:
            await self.admit(obj, None)
        errors = self.strategy.validate(obj)
        if errors:
            raise self.invalid(name, errors)
        if self.info.namespaced and self.namespace_exists is not None:
            try:
                await self.namespace_exists(namespace)
            except NamespaceTerminating:
                raise status.forbidden(
                    self.info.plural,
                    name,
                    f"unable to create new content in namespace {namespace} because it is "
                    "being terminated",
                    self.info.group,
                ) from None
        key = self.key(namespace, name)
        if dry_run:
            if self.cache.get(key) is not None:
                raise status.already_exists(self.info.plural, name, self.info.group)
            return StoredObject.unsaved(key, obj)
        undo = await self._hook(self.hooks.before_create(obj), name) if self.hooks else None
        try:
            kv = await self.store.create(key, self.encoded(obj), ttl=self.strategy.ttl)
        except BaseException as e:
            if undo is not None:
                await undo()
            if isinstance(e, KeyExists):
                raise status.already_exists(self.info.plural, name, self.info.group) from None
            raise
        return self.decoded(kv)

    async def _hook(self, call: Awaitable[Undo], name: str) -> Undo:
        """Runs an allocation hook, turning its field errors into 422 Invalid."""
        try:
            return await call
        except AllocationError as e:
            raise self.invalid(name, e.errors) from None

    async def update(
        self,
        namespace: str,
        name: str,
        mutate: Mutation,
        *,
        subresource: str = "",
        dry_run: bool = False,
        create_if_absent: Object | None = None,
    ) -> tuple[StoredObject, bool]:
        """Writes `mutate(current)`; returns the result and whether it was created.

        The new object's resourceVersion, if set, must match the stored one (409).
        Retries with fresh state when the store moved underneath and the new object
        did not pin a resourceVersion.
        """
        key = self.key(namespace, name)
        while True:
            current = await self._read(key)
            if current is None:
                if create_if_absent is not None and self.strategy.allow_create_on_update:
                    return await self.create(namespace, create_if_absent, dry_run=dry_run), True
                raise self.not_found(name)
            new = mutate(current.mutable())
            self.check_identity(new, namespace, name)
            pinned = new["metadata"].get("resourceVersion")
            if pinned and pinned != str(current.revision):
                raise self.conflict(name)
            self._prepare_update(new, current.obj, subresource)
            new["metadata"]["resourceVersion"] = str(current.revision)
            if self.admit is not None and not subresource:
                await self.admit(new, current.obj)
            errors = self.strategy.validate_update(new, current.obj, subresource)
            if errors:
                raise self.invalid(name, errors)
            if dry_run:
                return StoredObject.unsaved(key, new, current.revision), False
            if new == current.obj:
                return current, False
            try:
                return await self._write_update(name, new, current), False
            except (Conflict, KeyNotFound):
                if pinned:
                    raise self.conflict(name) from None

    async def _write_update(self, name: str, new: Object, current: StoredObject) -> StoredObject:
        """Writes an update (or, for an object whose last finalizer went, the deletion).

        Store errors (Conflict, KeyNotFound) propagate for the caller to retry.
        """
        if _finalized(new) and not self.strategy.hold_deletion(new):
            return await self._delete_now(current.key, current.revision)
        hooks = self.hooks
        undo = await self._hook(hooks.before_update(new, current.obj), name) if hooks else None
        try:
            written = await self.store.update(
                current.key,
                self.encoded(new),
                expected_mod_revision=current.revision,
                ttl=self.strategy.ttl,
            )
        except BaseException:
            if undo is not None:
                await undo()
            raise
        if hooks is not None:
            await hooks.after_update(new, current.obj)
        return self.decoded(written)

    def _prepare_update(self, new: Object, old: Object, subresource: str) -> None:
        meta, old_meta = new["metadata"], old["metadata"]
        for immutable in ("uid", "creationTimestamp", "deletionTimestamp", "generation"):
            if immutable in old_meta:
                meta[immutable] = old_meta[immutable]
            else:
                meta.pop(immutable, None)
        if "deletionGracePeriodSeconds" in old_meta:
            meta["deletionGracePeriodSeconds"] = old_meta["deletionGracePeriodSeconds"]
        if subresource == "status":
            self.strategy.prepare_for_status_update(new, old)
        elif subresource == "finalize":
            self.strategy.prepare_for_finalize(new, old)
        elif subresource in ("", "scale"):
            self.strategy.prepare_for_update(new, old)
        # Other subresources (binding) are server code that changes exactly what it
        # means to.

    async def delete(
        self, namespace: str, name: str, options: DeleteOptions
    ) -> tuple[StoredObject, bool]:
        """Deletes now, or marks for deletion when finalizers or a grace period say to.

        Returns the object's last state and whether it is gone (False when only marked
        with `deletionTimestamp`, or for a dry run).
        """
        key = self.key(namespace, name)
        while True:
            kv = await self.store.get(key)
            if kv is None:
                raise self.not_found(name)
            current = self.decoded(kv)
            self._check_preconditions(current, options)
            marked = self._mark_deleted(current.mutable(), options)
            if options.dry_run:
                return StoredObject.unsaved(key, marked or current.obj, kv.mod_revision), False
            try:
                if marked is None:
                    return await self._delete_now(key, kv.mod_revision), True
                if marked == current.obj:
                    return current, False
                written = await self.store.update(
                    key, self.encoded(marked), expected_mod_revision=kv.mod_revision
                )
                return self.decoded(written), False
            except (Conflict, KeyNotFound):
                continue

    def _check_preconditions(self, current: StoredObject, options: DeleteOptions) -> None:
        meta = current.metadata
        uid = options.precondition_uid
        if uid is not None and uid != meta.get("uid"):
            raise self.conflict(
                current.name,
                f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
                f"{meta.get('uid', '')}",
            )
        rv = options.precondition_resource_version
        if rv is not None and rv != meta.get("resourceVersion"):
            raise self.conflict(
                current.name,
                "Precondition failed: ResourceVersion in precondition: "
                f"{rv}, ResourceVersion in object meta: {meta.get('resourceVersion')}",
            )

    def _mark_deleted(self, obj: Object, options: DeleteOptions) -> Object | None:
        """The object marked for deletion, or None if it can be deleted now."""
        meta = obj["metadata"]
        finalizers: list[str] = list(meta.get("finalizers") or [])
        policy = options.propagation_policy
        if policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        grace = options.grace_period_seconds
        if grace is None:
            grace = self.strategy.grace_period(obj)
        held = self.strategy.hold_deletion(obj)
        if meta.get("deletionTimestamp"):
            # Already terminating: a shorter grace period may still shorten it, and
            # once nothing holds it any more it goes.
            current = meta.get("deletionGracePeriodSeconds") or 0
            if grace < current:
                meta["deletionGracePeriodSeconds"] = current = grace
            if current == 0 and not finalizers and not held:
                return None
            return obj
        if not finalizers and grace <= 0 and not held:
            return None
        meta["finalizers"] = finalizers
        meta["deletionTimestamp"] = now_rfc3339(datetime.now(UTC) + _grace_delta(grace))
        meta["deletionGracePeriodSeconds"] = grace
        if self.strategy.tracks_generation:
            meta["generation"] = meta.get("generation", 1) + 1
        return obj

    async def _delete_now(self, key: str, revision: int) -> StoredObject:
        """Deletes the key if still at `revision` (store errors propagate), then runs
        the kind's after-delete hook."""
        kv = await self.store.delete(key, expected_mod_revision=revision)
        deleted = self.decoded(kv)
        if self.hooks is not None:
            await self.hooks.after_delete(deleted.obj)
        return deleted


def _finalized(obj: Object) -> bool:
    """True when an object being deleted with no grace period left has no finalizers
    left either: the update that removed the last one deletes it."""
    meta = obj["metadata"]
    return (
        bool(meta.get("deletionTimestamp"))
        and meta.get("deletionGracePeriodSeconds") == 0
        and not meta.get("finalizers")
    )
