"""Documented API operations as format-neutral data, named as kube-apiserver names them.

An `Operation` is what the OpenAPI documents say about one method of one path; a
`Route` is a path with its operations. `OperationFactory` builds the operations of one
resource with kube-apiserver's names: operation ids such as
`createCoreV1NamespacedConfigMap` (verb, group and version, scope, kind, subresource,
suffix), tags such as `core_v1`, the `x-kubernetes-action` and
`x-kubernetes-group-version-kind` extensions, and each operation's parameters in full,
sorted by name (the renderers hoist the ones every operation of a path shares).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kybernetes.api.resources import ResourceInfo

from . import openapi_params as params
from .openapi_params import Param

JSON = "application/json"
OBJECT_MEDIA = (JSON, "application/yaml", "application/vnd.kubernetes.protobuf")
STREAM_MEDIA = (
    *OBJECT_MEDIA,
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
)
ANY_MEDIA = ("*/*",)
_CUSTOM_PATCH_MEDIA = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
)
_PATCH_MEDIA = (*_CUSTOM_PATCH_MEDIA, "application/strategic-merge-patch+json")
RESPONSE_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 401: "Unauthorized"}

DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
_PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"

# Built-in registries whose delete answers with the object (`ReturnDeletedObject`);
# every custom resource's does too.
_DELETE_RETURNS_OBJECT = {
    ("", "namespaces"),
    ("", "pods"),
    ("", "serviceaccounts"),
    ("", "services"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
}

Names = Callable[[str, str, str], str | None]
"""(group, version, kind) → the name of the kind's schema, or None."""


@dataclass(frozen=True, slots=True)
class GVK:
    group: str
    version: str
    kind: str

    def as_dict(self) -> dict[str, str]:
        return {"group": self.group, "kind": self.kind, "version": self.version}


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented operation. `response` names the schema of the success responses
    (`codes`), None for a plain string; `body` the request body's schema, sent as any
    of `consumes`. Discovery operations have neither `action` nor `gvk`."""

    method: str
    operation_id: str
    description: str
    tag: str
    params: tuple[Param, ...]
    codes: tuple[int, ...]
    response: str | None
    produces: tuple[str, ...]
    action: str | None = None
    gvk: GVK | None = None
    body: str | None = None
    consumes: tuple[str, ...] = ()
    body_required: bool = True


@dataclass(frozen=True, slots=True)
class Route:
    path: str
    operations: tuple[Operation, ...]


def operation_id_part(text: str, capitalize: bool) -> str:
    """kube-openapi's ToValidOperationID: drops what is not a letter, digit or `_`,
    capitalizing the letter after each drop (and the first if `capitalize`)."""
    out = []
    upper = capitalize
    for i, char in enumerate(text):
        if char.isalpha() or char == "_" or (i and char.isdigit()):
            out.append(char.upper() if upper else char)
            upper = False
        else:
            upper = True
    return "".join(out)


def group_version_naming(group: str, version: str) -> tuple[str, str]:
    """The operation-id infix and the tag of a group/version (`CoreV1`, `core_v1`)."""
    name = re.sub(r"\.k8s\.io$", "", group) or "core"
    infix = operation_id_part(name, True) + operation_id_part(version, True)
    return infix, f"{operation_id_part(name, False)}_{operation_id_part(version, False)}"


class OperationFactory:
    """The operations of one resource. `custom` marks a custom resource: its delete
    answers with the object and its patches exclude strategic merge patch."""

    def __init__(self, info: ResourceInfo, names: Names, custom: bool) -> None:
        self.info = info
        self.names = names
        self.infix, self.tag = group_version_naming(info.group, info.version)
        self.scope = "Namespaced" if info.namespaced else ""
        self.gvk = GVK(info.group, info.version, info.kind)
        self.kind_schema = names(info.group, info.version, info.kind)
        self.list_schema = names(info.group, info.version, info.list_kind)
        self.scope_params = (params.NAMESPACE,) if info.namespaced else ()
        self.patch_media = _CUSTOM_PATCH_MEDIA if custom else _PATCH_MEDIA
        self.returns_deleted = custom or (info.group, info.plural) in _DELETE_RETURNS_OBJECT

    def op(
        self,
        method: str,
        verb: str,
        description: str,
        parameters: tuple[Param, ...],
        codes: tuple[int, ...],
        response: str | None,
        *,
        action: str,
        gvk: GVK | None = None,
        scope: str | None = None,
        suffix: str = "",
        produces: tuple[str, ...] = OBJECT_MEDIA,
        body: str | None = None,
        consumes: tuple[str, ...] = (),
        body_required: bool = True,
    ) -> Operation:
        """An operation on `gvk` (default: the resource's kind) whose id is `verb`,
        group/version, `scope` (default: the resource's), kind and `suffix`."""
        scope = self.scope if scope is None else scope
        return Operation(
            method=method,
            operation_id=f"{verb}{self.infix}{scope}{self.info.kind}{suffix}",
            description=description,
            tag=self.tag,
            params=tuple(sorted(parameters, key=lambda p: (p.name, p.location))),
            codes=codes,
            response=response,
            produces=produces,
            action=action,
            gvk=gvk or self.gvk,
            body=body,
            consumes=consumes,
            body_required=body_required,
        )

    def read(self, text: str, common: tuple[Param, ...], gvk: GVK, suffix: str = "") -> Operation:
        """A GET of one object of kind `gvk`."""
        schema = self.names(gvk.group, gvk.version, gvk.kind)
        return self.op(
            "get", "read", text, common, (200,), schema, action="get", gvk=gvk, suffix=suffix
        )

    def write(
        self,
        method: str,
        text: str,
        common: tuple[Param, ...],
        gvk: GVK,
        suffix: str = "",
    ) -> Operation:
        """A create (`post`) or replace (`put`) of an object of kind `gvk`."""
        schema = self.names(gvk.group, gvk.version, gvk.kind)
        verb, codes = ("create", (200, 201, 202)) if method == "post" else ("replace", (200, 201))
        return self.op(
            method,
            verb,
            text,
            (*common, *params.CREATE),
            codes,
            schema,
            action=method,
            gvk=gvk,
            body=schema,
            consumes=ANY_MEDIA,
            suffix=suffix,
        )

    def patch(self, text: str, common: tuple[Param, ...], gvk: GVK, suffix: str = "") -> Operation:
        """A PATCH of an object of kind `gvk`, in any of the patch types the resource takes."""
        return self.op(
            "patch",
            "patch",
            text,
            (*common, *params.PATCH),
            (200, 201),
            self.names(gvk.group, gvk.version, gvk.kind),
            action="patch",
            gvk=gvk,
            body=_PATCH,
            consumes=self.patch_media,
            suffix=suffix,
        )

    def delete(self, text: str, parameters: tuple[Param, ...], collection: bool) -> Operation:
        """A DELETE of one object (answered with it or a Status) or of a collection."""
        response: str | None = STATUS
        codes: tuple[int, ...] = (200,)
        action = "deletecollection"
        if not collection:
            response = self.kind_schema if self.returns_deleted else STATUS
            codes, action = (200, 202), "delete"
        return self.op(
            "delete",
            "delete",
            text,
            parameters,
            codes,
            response,
            action=action,
            body=DELETE_OPTIONS,
            consumes=ANY_MEDIA,
            body_required=False,
            scope=("Collection" if collection else "") + self.scope,
        )
