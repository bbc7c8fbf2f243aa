"""Static pods: pods the kubelet runs from manifest files in `--pod-manifest-path`
(pkg/kubelet/config/file.go, common.go) and shows in the API as mirror pods
(pkg/kubelet/pod/mirror_client.go).

- `read_manifests(directory, node)`: every `*.yaml`, `*.yml` and `*.json` file (hidden
  files skipped) holding one Pod. Each gets Kubernetes' treatment: API defaults,
  namespace `default` if unset, name `NAME-NODE`, `spec.nodeName` = NODE, a toleration
  of every NoExecute taint, and a UID hashing its content, the node and the file path
  (so an edited manifest is a new pod); annotations `kubernetes.io/config.source:
  file`, `kubernetes.io/config.hash: UID`. A file that does not parse is logged and
  skipped.
- `mirror_pod(pod, node_uid)`: the API object that shows a static pod: the same spec,
  annotation `kubernetes.io/config.mirror: HASH`, owned by the Node (controller).
- `is_mirror(pod)`: whether an API pod is a mirror pod (the kubelet never runs those).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import yaml

from kybernetes.api.defaults import apply_defaults

log = logging.getLogger(__name__)
Obj = dict[str, Any]
SOURCE = "kubernetes.io/config.source"
HASH = "kubernetes.io/config.hash"
MIRROR = "kubernetes.io/config.mirror"
_SUFFIXES = (".yaml", ".yml", ".json")


def is_mirror(pod: Obj) -> bool:
    return MIRROR in ((pod.get("metadata") or {}).get("annotations") or {})


def _static_pod(raw: Obj, node: str, path: Path) -> Obj:
    if raw.get("kind") != "Pod" or raw.get("apiVersion") != "v1":
        raise ValueError(f"expected a v1 Pod, got {raw.get('apiVersion')}/{raw.get('kind')}")
    pod = copy.deepcopy(raw)
    apply_defaults("", "v1", "Pod", pod)
    meta = pod.setdefault("metadata", {})
    if not meta.get("name"):
        raise ValueError("metadata.name is required")
    meta["name"] = f"{meta['name']}-{node}"
    meta.setdefault("namespace", "default")
    spec = pod.setdefault("spec", {})
    spec["nodeName"] = node
    tolerations = spec.setdefault("tolerations", [])
    tolerations.append({"operator": "Exists", "effect": "NoExecute"})
    digest = hashlib.md5(usedforsecurity=False)
    digest.update(json.dumps(pod, sort_keys=True).encode())
    digest.update(f"host:{node}file:{path}".encode())
    uid = digest.hexdigest()
    meta["uid"] = uid
    meta["annotations"] = {**(meta.get("annotations") or {}), SOURCE: "file", HASH: uid}
    pod.pop("status", None)
    return pod


def read_manifests(directory: Path, node: str) -> dict[str, Obj]:
    """UID → static pod, for every manifest in `directory` (see module docstring)."""
    pods: dict[str, Obj] = {}
    try:
        paths = sorted(directory.iterdir())
    except OSError as e:
        log.warning("static pods: cannot read %s: %s", directory, e)
        return pods
    for path in paths:
        if path.name.startswith(".") or path.suffix not in _SUFFIXES or not path.is_file():
            continue
        try:
            raw = yaml.safe_load(path.read_text())
            if not isinstance(raw, dict):
                raise ValueError("not an object")
            pod = _static_pod(raw, node, path)
        except (OSError, ValueError, yaml.YAMLError) as e:
            log.warning("static pod manifest %s: %s", path, e)
            continue
        pods[pod["metadata"]["uid"]] = pod
    return pods


def mirror_pod(pod: Obj, node_uid: str) -> Obj:
    """The mirror pod of a static pod (see module docstring)."""
    meta = pod["metadata"]
    annotations = {**meta.get("annotations", {}), MIRROR: meta["annotations"][HASH]}
    mirror_meta = {k: v for k, v in meta.items() if k not in ("uid", "resourceVersion")}
    mirror_meta["annotations"] = annotations
    node = pod["spec"]["nodeName"]
    if node_uid:
        mirror_meta["ownerReferences"] = [
            {"apiVersion": "v1", "kind": "Node", "name": node, "uid": node_uid, "controller": True}
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": mirror_meta, "spec": pod["spec"]}
