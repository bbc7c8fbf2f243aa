"""Defaulting of built-in objects, as kube-apiserver 1.32 applies it on create and update.

kube-apiserver runs the scheme's defaulters (the hand-written `SetDefaults_*` of
k8s.io/kubernetes/pkg/apis/<group>/<version>/defaults.go and the generated
`SetObjectDefaults_*`, which also apply the declarative `+default=` markers) on every
object it decodes from a request body, before the REST strategy and admission.
`apply_defaults` does the same to the decoded JSON dict. Feature-gated defaults follow
1.32's default gates: GA and beta-on features are defaulted, alpha ones are not.

One module per API group family: `core` (with `podspec` and `volumes`, shared by every
kind embedding a pod template or a claim), `apps`, `batch`, `autoscaling`,
`networking` (with discovery), `rbac`, `scheduling`, `storage`, `admissionregistration`,
`flowcontrol`, `apiextensions` (with apiregistration). Groups without defaulters
(policy, coordination, events, node, certificates...) have no module.

Invariants, for every kind:
- only fields that are unset (absent, null, or Go's zero value for non-pointer fields)
  are filled, except where Kubernetes itself overwrites (noted per module);
- applying the defaults twice changes nothing (idempotent);
- quantities are left as written, except those finer than 1m, which Kubernetes rounds
  up to a multiple of 1m;
- expects an object whose fields have the right JSON types (a successful decode);
  ill-typed parts are skipped, never an exception.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults import (
    admissionregistration,
    apiextensions,
    apps,
    autoscaling,
    batch,
    core,
    flowcontrol,
    networking,
    rbac,
    scheduling,
    storage,
)
from kybernetes.api.defaults._fields import Defaulter, JSONObject

_DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    **core.DEFAULTERS,
    **apps.DEFAULTERS,
    **batch.DEFAULTERS,
    **autoscaling.DEFAULTERS,
    **networking.DEFAULTERS,
    **rbac.DEFAULTERS,
    **scheduling.DEFAULTERS,
    **storage.DEFAULTERS,
    **admissionregistration.DEFAULTERS,
    **flowcontrol.DEFAULTERS,
    **apiextensions.DEFAULTERS,
}


def apply_defaults(group: str, version: str, kind: str, obj: JSONObject) -> None:
    """Fills `obj` (a decoded object of `group/version, Kind=kind`) with its defaults.

    Mutates `obj` in place; a kind without defaults (or unknown) is left untouched.
    Idempotent. Never raises. Not thread-safe for one `obj`; distinct objects may be
    defaulted concurrently.
    """
    defaulter = _DEFAULTERS.get((group, version, kind))
    if defaulter is not None:
        defaulter(obj)


__all__ = ["JSONObject", "apply_defaults"]
