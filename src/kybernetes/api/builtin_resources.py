"""The built-in resources of Kubernetes 1.32, as its discovery reports them.

Names, short names, verbs, categories and subresources are those of
`kubectl api-resources -o wide` against kube-apiserver 1.32 (`singularName` is the
lower-cased kind, as 1.27+ reports it); storage prefixes are kube-apiserver's
`SpecialDefaultResourcePrefixes`; storage encodings give discovery's
`storageVersionHash`. Priorities are kube-aggregator's `apiVersionPriorities`.

Only what kybernetes serves is listed (a subset of a full cluster: no bindings,
componentstatuses, networking, storage, certificates...). Data only: no logic here.
"""

from __future__ import annotations

import functools

from .resources import CRUD_VERBS, Priority, ResourceInfo, Storage, Subresource

_CRUD = CRUD_VERBS
_CREATE = ("create",)
_SUB = ("get", "patch", "update")
_CONNECT_PROXY = ("create", "delete", "get", "patch", "update")
_ALL = ("all",)


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, _SUB)


_SCALE = Subresource("scale", "Scale", _SUB, "autoscaling", "v1")


def _resource(
    group: str,
    version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    verbs: tuple[str, ...] = _CRUD,
    sub: tuple[Subresource, ...] = (),
    prefix: str | None = None,
    storage: Storage | None = None,
) -> ResourceInfo:
    """A persisted row, stored as itself under `prefix` (default: the plural)."""
    return ResourceInfo(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=namespaced,
        verbs=verbs,
        short_names=short,
        categories=categories,
        subresources=sub,
        storage=storage or Storage(prefix or plural, group, version, kind),
    )


_core = functools.partial(_resource, "", "v1")
_apps = functools.partial(_resource, "apps", "v1")
_batch = functools.partial(_resource, "batch", "v1")
_rbac = functools.partial(_resource, "rbac.authorization.k8s.io", "v1")


def _review(group: str, kind: str, plural: str) -> ResourceInfo:
    """A cluster-scoped, create-only, never persisted review kind."""
    return ResourceInfo(group, "v1", kind, plural, kind.lower(), False, _CREATE)


_CORE = (
    _core("ConfigMap", "configmaps", short=("cm",)),
    _core("Endpoints", "endpoints", short=("ep",), prefix="services/endpoints"),
    _core("Event", "events", short=("ev",)),
    _core("LimitRange", "limitranges", short=("limits",)),
    _core(
        "Namespace",
        "namespaces",
        namespaced=False,
        short=("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        sub=(Subresource("finalize", "Namespace", ("update",)), _status("Namespace")),
    ),
    _core(
        "Node",
        "nodes",
        namespaced=False,
        short=("no",),
        sub=(Subresource("proxy", "NodeProxyOptions", _CONNECT_PROXY), _status("Node")),
        prefix="minions",
    ),
    _core(
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        short=("pvc",),
        sub=(_status("PersistentVolumeClaim"),),
    ),
    _core(
        "PersistentVolume",
        "persistentvolumes",
        namespaced=False,
        short=("pv",),
        sub=(_status("PersistentVolume"),),
    ),
    _core(
        "Pod",
        "pods",
        short=("po",),
        categories=_ALL,
        sub=(
            Subresource("attach", "PodAttachOptions", ("create", "get")),
            Subresource("binding", "Binding", _CREATE),
            Subresource("ephemeralcontainers", "Pod", _SUB),
            Subresource("eviction", "Eviction", _CREATE, "policy", "v1"),
            Subresource("exec", "PodExecOptions", ("create", "get")),
            Subresource("log", "Pod", ("get",)),
            Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
            Subresource("proxy", "PodProxyOptions", _CONNECT_PROXY),
            _status("Pod"),
        ),
    ),
    _core("PodTemplate", "podtemplates"),
    _core(
        "ReplicationController",
        "replicationcontrollers",
        short=("rc",),
        categories=_ALL,
        sub=(_SCALE, _status("ReplicationController")),
        prefix="controllers",
    ),
    _core("ResourceQuota", "resourcequotas", short=("quota",), sub=(_status("ResourceQuota"),)),
    _core("Secret", "secrets"),
    _core(
        "ServiceAccount",
        "serviceaccounts",
        short=("sa",),
        sub=(Subresource("token", "TokenRequest", _CREATE, "authentication.k8s.io", "v1"),),
    ),
    _core(
        "Service",
        "services",
        short=("svc",),
        categories=_ALL,
        sub=(Subresource("proxy", "ServiceProxyOptions", _CONNECT_PROXY), _status("Service")),
        prefix="services/specs",
    ),
)

_APPS = (
    _apps("ControllerRevision", "controllerrevisions"),
    _apps("DaemonSet", "daemonsets", short=("ds",), categories=_ALL, sub=(_status("DaemonSet"),)),
    _apps(
        "Deployment",
        "deployments",
        short=("deploy",),
        categories=_ALL,
        sub=(_SCALE, _status("Deployment")),
    ),
    _apps(
        "ReplicaSet",
        "replicasets",
        short=("rs",),
        categories=_ALL,
        sub=(_SCALE, _status("ReplicaSet")),
    ),
    _apps(
        "StatefulSet",
        "statefulsets",
        short=("sts",),
        categories=_ALL,
        sub=(_SCALE, _status("StatefulSet")),
    ),
)

_OTHERS = (
    _batch("CronJob", "cronjobs", short=("cj",), categories=_ALL, sub=(_status("CronJob"),)),
    _batch("Job", "jobs", categories=_ALL, sub=(_status("Job"),)),
    _resource("coordination.k8s.io", "v1", "Lease", "leases"),
    _resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    _resource(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        short=("ev",),
        storage=Storage("events", "", "v1", "Event"),
    ),
    _resource(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        short=("pdb",),
        sub=(_status("PodDisruptionBudget"),),
    ),
    _rbac("ClusterRoleBinding", "clusterrolebindings", namespaced=False),
    _rbac("ClusterRole", "clusterroles", namespaced=False),
    _rbac("RoleBinding", "rolebindings"),
    _rbac("Role", "roles"),
    _resource(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        namespaced=False,
        short=("pc",),
    ),
    _resource(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short=("crd", "crds"),
        categories=("api-extensions",),
        sub=(
            _status("CustomResourceDefinition"),
        ),  # kube-apiserver still encodes CRDs as v1beta1 in etcd (kubernetes#82292).
        storage=Storage(
            "apiextensions.k8s.io/customresourcedefinitions",
            "apiextensions.k8s.io",
            "v1beta1",
            "CustomResourceDefinition",
        ),
    ),
    _review("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews"),
    _review("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
)

BUILTIN_RESOURCES: tuple[ResourceInfo, ...] = _CORE + _APPS + _OTHERS

BUILTIN_PRIORITIES: dict[tuple[str, str], Priority] = {
    ("", "v1"): Priority(18000, 1),
    ("apps", "v1"): Priority(17800, 15),
    ("events.k8s.io", "v1"): Priority(17750, 15),
    ("authentication.k8s.io", "v1"): Priority(17700, 15),
    ("authorization.k8s.io", "v1"): Priority(17600, 15),
    ("autoscaling", "v2"): Priority(17500, 30),
    ("autoscaling", "v1"): Priority(17500, 15),
    ("batch", "v1"): Priority(17400, 15),
    ("certificates.k8s.io", "v1"): Priority(17300, 15),
    ("networking.k8s.io", "v1"): Priority(17200, 15),
    ("policy", "v1"): Priority(17100, 15),
    ("rbac.authorization.k8s.io", "v1"): Priority(17000, 15),
    ("storage.k8s.io", "v1"): Priority(16800, 15),
    ("admissionregistration.k8s.io", "v1"): Priority(16700, 15),
    ("apiextensions.k8s.io", "v1"): Priority(16700, 15),
    ("scheduling.k8s.io", "v1"): Priority(16600, 15),
    ("coordination.k8s.io", "v1"): Priority(16500, 15),
    ("node.k8s.io", "v1"): Priority(16300, 15),
    ("discovery.k8s.io", "v1"): Priority(16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1"): Priority(16100, 21),
}
