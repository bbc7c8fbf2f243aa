"""Which resource a request is about: `Resource(group, version, plural, namespaced)`.

A `Resource` knows its URL paths (`/api/v1/namespaces/NS/pods/NAME/status`,
`/apis/apps/v1/deployments`) and the `apiVersion` of its objects. The constants name
the built-ins the components use; any other resource (a CRD's, say) is just another
`Resource` value, or `Resource.of(info)` for a row of the API's resource table.

Invariants: values are immutable and hashable (informer factories key on them); paths
quote nothing, since Kubernetes names are DNS labels/subdomains that need no quoting.
"""

from __future__ import annotations

from dataclasses import dataclass

from kybernetes.api.resources import ResourceInfo


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource of one group/version; `group` is "" for the core API."""

    group: str
    version: str
    plural: str
    namespaced: bool = True

    @classmethod
    def of(cls, info: ResourceInfo) -> Resource:
        return cls(info.group, info.version, info.plural, info.namespaced)

    @property
    def api_version(self) -> str:
        """`v1` for the core group, else `group/version` (objects' `apiVersion`)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str = "", name: str = "", subresource: str = "") -> str:
        """The URL path of the collection (no `name`), an object, or its subresource.

        A namespaced resource without `namespace` is the all-namespaces collection;
        `namespace` is ignored for cluster-scoped resources.
        """
        if subresource and not name:
            raise ValueError("a subresource needs an object name")
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        parts = [root]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        if subresource:
            parts.append(subresource)
        return "/".join(parts)

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


PODS = Resource("", "v1", "pods")
NODES = Resource("", "v1", "nodes", namespaced=False)
NAMESPACES = Resource("", "v1", "namespaces", namespaced=False)
SERVICES = Resource("", "v1", "services")
ENDPOINTS = Resource("", "v1", "endpoints")
CONFIGMAPS = Resource("", "v1", "configmaps")
SECRETS = Resource("", "v1", "secrets")
EVENTS = Resource("", "v1", "events")
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts")
PERSISTENTVOLUMES = Resource("", "v1", "persistentvolumes", namespaced=False)
PERSISTENTVOLUMECLAIMS = Resource("", "v1", "persistentvolumeclaims")
REPLICATIONCONTROLLERS = Resource("", "v1", "replicationcontrollers")
RESOURCEQUOTAS = Resource("", "v1", "resourcequotas")
LIMITRANGES = Resource("", "v1", "limitranges")
ENDPOINTSLICES = Resource("discovery.k8s.io", "v1", "endpointslices")
LEASES = Resource("coordination.k8s.io", "v1", "leases")
DEPLOYMENTS = Resource("apps", "v1", "deployments")
REPLICASETS = Resource("apps", "v1", "replicasets")
STATEFULSETS = Resource("apps", "v1", "statefulsets")
DAEMONSETS = Resource("apps", "v1", "daemonsets")
CONTROLLERREVISIONS = Resource("apps", "v1", "controllerrevisions")
JOBS = Resource("batch", "v1", "jobs")
CRONJOBS = Resource("batch", "v1", "cronjobs")
PODDISRUPTIONBUDGETS = Resource("policy", "v1", "poddisruptionbudgets")
PRIORITYCLASSES = Resource("scheduling.k8s.io", "v1", "priorityclasses", namespaced=False)
CUSTOMRESOURCEDEFINITIONS = Resource(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", namespaced=False
)
