"""A StatefulSet pod's stable identity (Kubernetes' `stateful_set_utils.go`). Pure.

- Names: pod `SET-ORDINAL`; `ordinal_of(set, pod)` parses it back (-1 if the pod is
  not named like a member of this set). Ordinals run from `spec.ordinals.start`
  (default 0) for `spec.replicas` pods.
- `new_pod(set, template_set, ordinal, revision)`: the pod from `template_set`'s
  template (the current or update revision's), named `SET-ORDINAL`, controlled by
  the set, labelled `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`
  and `controller-revision-hash` (the revision's name), with hostname = its name and
  subdomain = `spec.serviceName`, and one PersistentVolumeClaim volume per
  `volumeClaimTemplates` entry (claim `TEMPLATE-SET-ORDINAL`).
- `identity_fix(set, pod)`: the labels/hostname/subdomain a live pod must carry and
  does not (None when it matches).
- `claim_for(set, template, ordinal)`: the PersistentVolumeClaim of one template;
  owned (non-controller ownerReference) by the set when
  `persistentVolumeClaimRetentionPolicy.whenDeleted` is Delete, so the garbage
  collector deletes it with the set. `retention(set)` reads that policy.
- `with_owner(claim, owner)`: the claim with one more plain ownerReference (None if
  it already has it): how `whenScaled: Delete` hands a condemned pod's claims to it.
- Health: `is_running_and_ready`, `is_running_and_available`, `is_healthy` (running,
  ready, not terminating), `is_terminating`.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from ..history import CONTROLLER_REVISION_HASH
from ..replicaset.pods import is_pod_available, is_pod_ready, owner_reference

Obj = dict[str, Any]

POD_NAME = "statefulset.kubernetes.io/pod-name"
POD_INDEX = "apps.kubernetes.io/pod-index"


def start_ordinal(sts: Obj) -> int:
    return int(((sts.get("spec") or {}).get("ordinals") or {}).get("start") or 0)


def replicas(sts: Obj) -> int:
    return int((sts.get("spec") or {}).get("replicas", 1))


def ordinal_of(sts: Obj, pod: Obj) -> int:
    """The pod's ordinal, or -1 if its name is not `SET-<number>`."""
    prefix = f"{sts['metadata']['name']}-"
    name = str(pod["metadata"].get("name") or "")
    suffix = name.removeprefix(prefix)
    if suffix == name or not suffix.isdigit() or (len(suffix) > 1 and suffix[0] == "0"):
        return -1
    return int(suffix)


def pod_name(sts: Obj, ordinal: int) -> str:
    return f"{sts['metadata']['name']}-{ordinal}"


def claim_name(template: Obj, sts: Obj, ordinal: int) -> str:
    return f"{template['metadata']['name']}-{pod_name(sts, ordinal)}"


def claim_for(sts: Obj, template: Obj, ordinal: int) -> Obj:
    """The claim of `template` for pod `ordinal`, labelled with the set's selector."""
    meta = template.get("metadata") or {}
    selector = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    claim_meta: Obj = {
        "name": claim_name(template, sts, ordinal),
        "namespace": sts["metadata"]["namespace"],
        "labels": {**(meta.get("labels") or {}), **selector},
    }
    if meta.get("annotations"):
        claim_meta["annotations"] = dict(meta["annotations"])
    if retention(sts)[0] == "Delete":
        claim_meta["ownerReferences"] = [_plain_ref(sts)]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": claim_meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def retention(sts: Obj) -> tuple[str, str]:
    """(whenDeleted, whenScaled), each Retain unless set to Delete."""
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    return policy.get("whenDeleted") or "Retain", policy.get("whenScaled") or "Retain"


def _plain_ref(owner: Obj) -> Obj:
    ref = owner_reference(owner)
    del ref["controller"], ref["blockOwnerDeletion"]
    return ref


def with_owner(claim: Obj, owner: Obj) -> Obj | None:
    """`claim` also owned by `owner`, or None if it already is (see module doc)."""
    refs = list(claim["metadata"].get("ownerReferences") or [])
    if any(r.get("uid") == owner["metadata"]["uid"] for r in refs):
        return None
    refs.append(_plain_ref(owner))
    return {**claim, "metadata": {**claim["metadata"], "ownerReferences": refs}}


def _identity(sts: Obj, ordinal: int) -> tuple[dict[str, str], str, str | None]:
    name = pod_name(sts, ordinal)
    labels = {POD_NAME: name, POD_INDEX: str(ordinal)}
    return labels, name, (sts.get("spec") or {}).get("serviceName") or None


def new_pod(sts: Obj, template_set: Obj, ordinal: int, revision: str) -> Obj:
    """The pod for `ordinal` (see module docstring)."""
    template = (template_set.get("spec") or {}).get("template") or {}
    meta = template.get("metadata") or {}
    labels, hostname, subdomain = _identity(sts, ordinal)
    pod_meta: Obj = {
        "name": hostname,
        "namespace": sts["metadata"]["namespace"],
        "labels": {**(meta.get("labels") or {}), **labels, CONTROLLER_REVISION_HASH: revision},
        "ownerReferences": [owner_reference(sts)],
    }
    if meta.get("annotations"):
        pod_meta["annotations"] = dict(meta["annotations"])
    spec = copy.deepcopy(template.get("spec") or {})
    spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    claims = (sts.get("spec") or {}).get("volumeClaimTemplates") or []
    if claims:
        names = {c["metadata"]["name"] for c in claims}
        volumes = [v for v in spec.get("volumes") or [] if v.get("name") not in names]
        for claim in claims:
            source = {"claimName": claim_name(claim, sts, ordinal)}
            volumes.append({"name": claim["metadata"]["name"], "persistentVolumeClaim": source})
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}


def identity_fix(sts: Obj, pod: Obj, ordinal: int) -> Obj | None:
    """The pod with its identity restored, or None if it already matches."""
    labels, hostname, subdomain = _identity(sts, ordinal)
    have = pod["metadata"].get("labels") or {}
    spec = pod.get("spec") or {}
    if (
        all(have.get(k) == v for k, v in labels.items())
        and spec.get("hostname") == hostname
        and spec.get("subdomain") == subdomain
    ):
        return None
    fixed_spec = {**spec, "hostname": hostname}
    if subdomain:
        fixed_spec["subdomain"] = subdomain
    else:
        fixed_spec.pop("subdomain", None)
    fixed_meta = {**pod["metadata"], "labels": {**have, **labels}}
    return {**pod, "metadata": fixed_meta, "spec": fixed_spec}


def revision_of(pod: Obj) -> str:
    return str((pod["metadata"].get("labels") or {}).get(CONTROLLER_REVISION_HASH) or "")


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def is_running_and_ready(pod: Obj) -> bool:
    return phase(pod) == "Running" and is_pod_ready(pod)


def is_running_and_available(pod: Obj, min_ready: int, now: datetime) -> bool:
    return phase(pod) == "Running" and is_pod_available(pod, min_ready, now)


def is_healthy(pod: Obj) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)
