"""What each volume source projects: payloads of configMap, secret, downwardAPI and
projected volumes, and the hostPath type check, with Kubernetes' error messages.

A payload maps a relative path to a `FileProjection`; the `AtomicWriter` puts it on
disk. Missing ConfigMaps and Secrets read `configmap "x" not found` /
`secret "x" not found` (the kubelet's object managers' words); several failures of
one projected volume are joined like Go's aggregate error (`[a, b]`).

Invariants: functions here only read (objects, the pod, the host's file types), except
`check_host_path`, which creates `DirectoryOrCreate` / `FileOrCreate` paths.
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from kybernetes.kubelet import fieldpath
from kybernetes.kubelet.envvars import Getter
from kybernetes.kubelet.volumes.atomic_writer import FileProjection

Obj = Mapping[str, Any]
# (namespace, serviceAccountName, audience, expirationSeconds, pod) -> token
TokenRequester = Callable[[str, str, str, int, Obj], Awaitable[str]]
Payload = dict[str, FileProjection]

DEFAULT_MODE: Final = 0o644
NO_TOKEN_REQUEST: Final = (
    "the API server does not serve TokenRequest (serviceaccounts/token) yet, so no "
    "service account token can be issued"
)
_SINGULAR: Final = {"configmaps": "configmap", "secrets": "secret"}
_MISSING_KEY: Final = {
    "configmaps": "configmap references non-existent config key: ",
    "secrets": "references non-existent secret key: ",
}
_HOST_PATH_TYPES: Final = {
    "Directory": "directory", "File": "file", "Socket": "socket file",
    "CharDevice": "character device", "BlockDevice": "block device",
}  # fmt: skip


class SourceError(Exception):
    """A volume's content cannot be produced; str(e) is Kubernetes' message."""


def aggregate(errors: Sequence[str]) -> str:
    """Go's `utilerrors.NewAggregate(...).Error()` for distinct messages."""
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def object_files(resource: str, obj: Obj) -> dict[str, bytes]:
    """The files a ConfigMap (`data` + `binaryData`) or Secret (`data`) holds."""
    files: dict[str, bytes] = {}
    if resource == "configmaps":
        for key, text in (obj.get("data") or {}).items():
            files[key] = str(text).encode()
        for key, encoded in (obj.get("binaryData") or {}).items():
            files[key] = base64.b64decode(encoded)
    else:
        for key, encoded in (obj.get("data") or {}).items():
            files[key] = base64.b64decode(encoded)
    return files


async def object_payload(
    getter: Getter, resource: str, namespace: str, source: Obj, default_mode: int
) -> Payload:
    """A configMap or secret source (also inside projected volumes) as a payload."""
    singular = _SINGULAR[resource]
    name = str(source.get("secretName") or source.get("name") or "")
    optional = bool(source.get("optional"))
    obj = await getter(resource, namespace, name)
    if obj is None and not optional:
        raise SourceError(f'{singular} "{name}" not found')
    files = object_files(resource, obj or {})
    items: Sequence[Obj] = source.get("items") or ()
    if not items:
        return {key: FileProjection(data, default_mode) for key, data in files.items()}
    payload: Payload = {}
    for item in items:
        key = str(item.get("key", ""))
        if key not in files:
            if optional:
                continue
            raise SourceError(_MISSING_KEY[resource] + key)
        mode = item.get("mode")
        payload[str(item["path"])] = FileProjection(
            files[key], default_mode if mode is None else int(mode)
        )
    return payload


def downward_payload(
    pod: Obj,
    items: Sequence[Obj],
    default_mode: int,
    allocatable: Mapping[str, object] | None,
) -> Payload:
    """A downwardAPI source: metadata fields and container resources as files."""
    payload: Payload = {}
    errors: list[str] = []
    for item in items:
        mode = item.get("mode")
        text = ""
        try:
            if (field := item.get("fieldRef")) is not None:
                text = fieldpath.object_field(pod, str(field.get("fieldPath", "")))
            elif (selector := item.get("resourceFieldRef")) is not None:
                container = fieldpath.find_container(pod, str(selector.get("containerName", "")))
                text = fieldpath.resource_value(selector, container, allocatable)
        except ValueError as error:
            errors.append(str(error))
        path = os.path.normpath(str(item.get("path", "")))
        payload[path] = FileProjection(text.encode(), default_mode if mode is None else int(mode))
    if errors:
        raise SourceError(aggregate(errors))
    return payload


async def projected_payload(
    getter: Getter,
    pod: Obj,
    source: Obj,
    allocatable: Mapping[str, object] | None,
    token_requester: TokenRequester | None,
) -> Payload:
    """A projected volume: its sources merged in order (later paths win)."""
    namespace = str(pod["metadata"].get("namespace", ""))
    default_mode = int(source.get("defaultMode", DEFAULT_MODE))
    payload: Payload = {}
    errors: list[str] = []
    for projection in source.get("sources") or ():
        try:
            if (part := projection.get("configMap")) is not None:
                payload.update(
                    await object_payload(getter, "configmaps", namespace, part, default_mode)
                )
            elif (part := projection.get("secret")) is not None:
                payload.update(
                    await object_payload(getter, "secrets", namespace, part, default_mode)
                )
            elif (part := projection.get("downwardAPI")) is not None:
                payload.update(
                    downward_payload(pod, part.get("items") or (), default_mode, allocatable)
                )
            elif (part := projection.get("serviceAccountToken")) is not None:
                # With an fsGroup the token is 0600 (group read is added by ownership).
                fs_group = ((pod.get("spec") or {}).get("securityContext") or {}).get("fsGroup")
                payload[str(part["path"])] = FileProjection(
                    await _token(pod, part, token_requester),
                    default_mode if fs_group is None else 0o600,
                )
        except SourceError as error:
            errors.append(str(error))
    if errors:
        raise SourceError(aggregate(errors))
    return payload


async def _token(pod: Obj, source: Obj, token_requester: TokenRequester | None) -> bytes:
    if token_requester is None:
        raise SourceError(f"failed to fetch token: {NO_TOKEN_REQUEST}")
    spec: Obj = pod.get("spec") or {}
    token = await token_requester(
        str(pod["metadata"].get("namespace", "")),
        str(spec.get("serviceAccountName") or "default"),
        str(source.get("audience") or ""),
        int(source.get("expirationSeconds") or 3600),
        pod,
    )
    return token.encode()


def _file_type(path: str) -> str:
    mode = os.stat(path).st_mode
    if stat.S_ISSOCK(mode):
        return "Socket"
    if stat.S_ISBLK(mode):
        return "BlockDevice"
    if stat.S_ISCHR(mode):
        return "CharDevice"
    if stat.S_ISDIR(mode):
        return "Directory"
    if stat.S_ISREG(mode):
        return "File"
    raise OSError("only recognise file, directory, socket, block device and character device")


def check_host_path(path: str, kind: str) -> None:
    """hostPath SetUp: no `..`, then the `type` check (creating `*OrCreate` paths)."""
    if ".." in path.split("/"):
        raise SourceError(f"invalid HostPath `{path}`: must not contain '..'")
    if kind == "":
        return
    if kind == "DirectoryOrCreate":
        if not os.path.exists(path):
            os.makedirs(path, 0o755, exist_ok=True)
        kind = "Directory"
    elif kind == "FileOrCreate":
        if not os.path.exists(path):
            Path(path).touch(0o644)
        kind = "File"
    if kind not in _HOST_PATH_TYPES:
        raise SourceError(f"{kind} is an invalid volume type")
    description = _HOST_PATH_TYPES[kind]
    if not os.path.exists(path):
        raise SourceError(f"hostPath {path} doesn't exist")
    try:
        actual = _file_type(path)
    except OSError as error:
        raise SourceError(
            f"hostPath type check failed, {path} is not a {description}, unable to determine "
            f"its type: {error.strerror or error}"
        ) from error
    if actual != kind:
        raise SourceError(
            f"hostPath type check failed: {path} is not a {description}, it's a {actual}"
        )
