"""The resource table matches what a Kubernetes 1.32 cluster's discovery reports."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.builtin_resources import BUILTIN_RESOURCES
from kybernetes.api.resources import (
    CRUD_VERBS,
    ResourceInfo,
    ResourceTable,
    Storage,
    Subresource,
    custom_resources,
    storage_version_hash,
    version_sort_key,
)
from kybernetes.api.schema import definition_name

SUB = ("get", "patch", "update")


@pytest.fixture
def table() -> ResourceTable:
    return ResourceTable.builtin()


def test_pods_row_is_discoverys(table: ResourceTable) -> None:
    pods = table.get("", "v1", "pods")
    assert pods is not None
    assert (pods.kind, pods.singular, pods.namespaced) == ("Pod", "pod", True)
    assert pods.short_names == ("po",)
    assert pods.categories == ("all",)
    assert pods.verbs == CRUD_VERBS
    assert [(s.name, s.kind, s.verbs, s.group, s.version) for s in pods.subresources] == [
        ("attach", "PodAttachOptions", ("create", "get"), "", ""),
        ("binding", "Binding", ("create",), "", ""),
        ("ephemeralcontainers", "Pod", SUB, "", ""),
        ("eviction", "Eviction", ("create",), "policy", "v1"),
        ("exec", "PodExecOptions", ("create", "get"), "", ""),
        ("log", "Pod", ("get",), "", ""),
        ("portforward", "PodPortForwardOptions", ("create", "get"), "", ""),
        ("proxy", "PodProxyOptions", ("create", "delete", "get", "patch", "update"), "", ""),
        ("status", "Pod", SUB, "", ""),
    ]
    assert pods.group_version == "v1"
    assert pods.api_path_prefix == "/api/v1"
    assert pods.list_kind == "PodList"
    assert pods.storage == Storage("pods", "", "v1", "Pod")
    assert pods.storage.version_hash == "xPOwRZ+Yhw8="


def test_deployments_row_is_discoverys(table: ResourceTable) -> None:
    deploy = table.by_kind("apps", "v1", "Deployment")
    assert deploy is not None
    assert (deploy.plural, deploy.singular, deploy.short_names) == (
        "deployments",
        "deployment",
        ("deploy",),
    )
    assert deploy.categories == ("all",)
    assert deploy.group_version == "apps/v1"
    assert deploy.api_path_prefix == "/apis/apps/v1"
    assert deploy.subresource("scale") == Subresource("scale", "Scale", SUB, "autoscaling", "v1")
    assert deploy.subresource("status") == Subresource("status", "Deployment", SUB)
    assert deploy.subresource("log") is None


@pytest.mark.parametrize(
    ("group", "plural", "namespaced", "short_names", "categories"),
    [
        ("", "namespaces", False, ("ns",), ()),
        ("", "nodes", False, ("no",), ()),
        ("", "persistentvolumes", False, ("pv",), ()),
        ("", "persistentvolumeclaims", True, ("pvc",), ()),
        ("", "services", True, ("svc",), ("all",)),
        ("", "endpoints", True, ("ep",), ()),
        ("", "configmaps", True, ("cm",), ()),
        ("", "secrets", True, (), ()),
        ("", "serviceaccounts", True, ("sa",), ()),
        ("", "events", True, ("ev",), ()),
        ("", "limitranges", True, ("limits",), ()),
        ("", "resourcequotas", True, ("quota",), ()),
        ("", "replicationcontrollers", True, ("rc",), ("all",)),
        ("", "podtemplates", True, (), ()),
        ("apps", "daemonsets", True, ("ds",), ("all",)),
        ("apps", "replicasets", True, ("rs",), ("all",)),
        ("apps", "statefulsets", True, ("sts",), ("all",)),
        ("apps", "controllerrevisions", True, (), ()),
        ("batch", "jobs", True, (), ("all",)),
        ("batch", "cronjobs", True, ("cj",), ("all",)),
        ("coordination.k8s.io", "leases", True, (), ()),
        ("discovery.k8s.io", "endpointslices", True, (), ()),
        ("events.k8s.io", "events", True, ("ev",), ()),
        ("policy", "poddisruptionbudgets", True, ("pdb",), ()),
        ("rbac.authorization.k8s.io", "roles", True, (), ()),
        ("rbac.authorization.k8s.io", "rolebindings", True, (), ()),
        ("rbac.authorization.k8s.io", "clusterroles", False, (), ()),
        ("rbac.authorization.k8s.io", "clusterrolebindings", False, (), ()),
        ("scheduling.k8s.io", "priorityclasses", False, ("pc",), ()),
        (
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            False,
            ("crd", "crds"),
            ("api-extensions",),
        ),
    ],
)
def test_scope_short_names_and_categories(
    table: ResourceTable,
    group: str,
    plural: str,
    namespaced: bool,
    short_names: tuple[str, ...],
    categories: tuple[str, ...],
) -> None:
    version = table.preferred_version(group)
    assert version is not None
    info = table.get(group, version, plural)
    assert info is not None
    assert info.namespaced is namespaced
    assert info.short_names == short_names
    assert info.categories == categories


def test_namespaces_cannot_be_deleted_as_a_collection(table: ResourceTable) -> None:
    namespaces = table.get("", "v1", "namespaces")
    assert namespaces is not None
    assert "deletecollection" not in namespaces.verbs
    assert [s.name for s in namespaces.subresources] == ["finalize", "status"]
    assert namespaces.subresource("finalize") == Subresource("finalize", "Namespace", ("update",))


def test_events_are_served_twice_and_stored_once(table: ResourceTable) -> None:
    core = table.by_kind("", "v1", "Event")
    events = table.by_kind("events.k8s.io", "v1", "Event")
    assert core is not None and events is not None
    assert core.plural == events.plural == "events"
    assert core.short_names == events.short_names == ("ev",)
    assert core.storage == events.storage == Storage("events", "", "v1", "Event")
    assert events.storage is not None and events.storage.version_hash == "r2yiGXH7wu8="


# kubernetes/test/integration/etcd: storage version hashes that "shouldn't change".
UPSTREAM_HASHES = {
    ("", "configmaps"): "qFsyl6wFWjQ=",
    ("", "endpoints"): "fWeeMqaN/OA=",
    ("", "limitranges"): "EBKMFVe6cwo=",
    ("", "namespaces"): "Q3oi5N2YM8M=",
    ("", "nodes"): "XwShjMxG9Fs=",
    ("", "persistentvolumeclaims"): "QWTyNDq0dC4=",
    ("", "persistentvolumes"): "HN/zwEC+JgM=",
    ("", "podtemplates"): "LIXB2x4IFpk=",
    ("", "replicationcontrollers"): "Jond2If31h0=",
    ("", "resourcequotas"): "8uhSgffRX6w=",
    ("", "secrets"): "S6u1pOWzb84=",
    ("", "serviceaccounts"): "pbx9ZvyFpBE=",
    ("", "services"): "0/CO1lhkEBI=",
    ("apps", "controllerrevisions"): "85nkx63pcBU=",
    ("apps", "daemonsets"): "dd7pWHUlMKQ=",
    ("apps", "deployments"): "8aSe+NMegvE=",
    ("apps", "replicasets"): "P1RzHs8/mWQ=",
    ("apps", "statefulsets"): "H+vl74LkKdo=",
    ("batch", "jobs"): "mudhfqk/qZY=",
    ("batch", "cronjobs"): "sd5LIXh4Fjs=",
    ("coordination.k8s.io", "leases"): "gqkMMb/YqFM=",
    ("discovery.k8s.io", "endpointslices"): "qgS0xkrxYAI=",
    ("policy", "poddisruptionbudgets"): "EVWiDmWqyJw=",
    ("rbac.authorization.k8s.io", "clusterrolebindings"): "48tpQ8gZHFc=",
    ("rbac.authorization.k8s.io", "clusterroles"): "bYE5ZWDrJ44=",
    ("rbac.authorization.k8s.io", "rolebindings"): "eGsCzGH6b1g=",
    ("rbac.authorization.k8s.io", "roles"): "7FuwZcIIItM=",
    ("scheduling.k8s.io", "priorityclasses"): "1QwjyaZjj3Y=",
    ("apiextensions.k8s.io", "customresourcedefinitions"): "jfWCUB31mvA=",
}


@pytest.mark.parametrize(("group", "plural"), sorted(UPSTREAM_HASHES))
def test_storage_version_hashes_match_kubernetes(
    table: ResourceTable, group: str, plural: str
) -> None:
    info = table.get(group, "v1", plural)
    assert info is not None and info.storage is not None
    assert info.storage.version_hash == UPSTREAM_HASHES[(group, plural)]


def test_storage_prefixes_are_kubernetes_special_prefixes(table: ResourceTable) -> None:
    def prefix(group: str, plural: str) -> str | None:
        info = table.get(group, "v1", plural)
        assert info is not None
        return info.storage.prefix if info.storage else None

    assert prefix("", "services") == "services/specs"
    assert prefix("", "endpoints") == "services/endpoints"
    assert prefix("", "nodes") == "minions"
    assert prefix("", "replicationcontrollers") == "controllers"
    assert prefix("apps", "deployments") == "deployments"
    crds = "customresourcedefinitions"
    assert prefix("apiextensions.k8s.io", crds) == "apiextensions.k8s.io/" + crds
    assert prefix("authorization.k8s.io", "selfsubjectaccessreviews") is None
    assert prefix("authentication.k8s.io", "selfsubjectreviews") is None


def test_review_kinds_are_create_only_and_cluster_scoped(table: ResourceTable) -> None:
    for group, plural in [
        ("authentication.k8s.io", "selfsubjectreviews"),
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
    ]:
        info = table.get(group, "v1", plural)
        assert info is not None
        assert (info.verbs, info.namespaced, info.storage) == (("create",), False, None)


def test_rows_are_listed_as_discovery_lists_them() -> None:
    for info in BUILTIN_RESOURCES:
        assert list(info.verbs) == sorted(info.verbs), info.plural
        names = [s.name for s in info.subresources]
        assert names == sorted(names), info.plural
        assert info.singular == info.kind.lower()
        assert all(list(s.verbs) == sorted(s.verbs) for s in info.subresources)


def test_every_kind_has_an_official_schema() -> None:
    for info in BUILTIN_RESOURCES:
        assert definition_name(info.group, info.version, info.kind), info.kind
        for sub in info.subresources:
            if not sub.kind.endswith("Options"):
                group, version = (sub.group, sub.version) if sub.group else (info.group, "v1")
                assert definition_name(group, version, sub.kind), (info.plural, sub.name)


def test_groups_in_kube_apiserver_discovery_order(table: ResourceTable) -> None:
    assert table.groups() == [
        "",
        "apps",
        "events.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "batch",
        "policy",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
    ]
    assert all(table.versions(g) == ["v1"] for g in table.groups())
    assert table.versions("nope") == []
    assert table.preferred_version("nope") is None


def test_resources_of_a_group_version_sorted_by_plural(table: ResourceTable) -> None:
    assert [i.plural for i in table.resources("apps", "v1")] == [
        "controllerrevisions",
        "daemonsets",
        "deployments",
        "replicasets",
        "statefulsets",
    ]
    assert [i.plural for i in table.resources("", "v1")][:3] == [
        "configmaps",
        "endpoints",
        "events",
    ]
    assert len(table) == len(BUILTIN_RESOURCES) == len(list(table))
    assert next(iter(table)).group == ""


def test_kubernetes_version_order() -> None:
    versions = ["v1alpha1", "foo", "v2", "v1beta1", "v1", "v1beta2", "v11alpha2", "v10"]
    assert sorted(versions, key=version_sort_key) == [
        "v10",
        "v2",
        "v1",
        "v1beta2",
        "v1beta1",
        "v11alpha2",
        "v1alpha1",
        "foo",
    ]


def widget(version: str, plural: str = "widgets", kind: str = "Widget") -> ResourceInfo:
    storage = Storage(f"example.com/{plural}", "example.com", "v1", kind)
    return ResourceInfo(
        "example.com", version, kind, plural, kind.lower(), True, CRUD_VERBS, storage=storage
    )


def test_custom_resources_come_and_go(table: ResourceTable) -> None:
    table.add(widget("v1beta1"))
    table.add(widget("v1"))
    table.add(widget("v1alpha1"))
    assert table.groups()[-1] == "example.com"
    assert table.versions("example.com") == ["v1", "v1beta1", "v1alpha1"]
    assert table.preferred_version("example.com") == "v1"
    assert table.by_kind("example.com", "v1", "Widget") == widget("v1")

    assert table.remove("example.com", "v1", "widgets") == widget("v1")
    assert table.remove("example.com", "v1", "widgets") is None
    assert table.by_kind("example.com", "v1", "Widget") is None
    assert table.preferred_version("example.com") == "v1beta1"
    table.remove("example.com", "v1beta1", "widgets")
    table.remove("example.com", "v1alpha1", "widgets")
    assert "example.com" not in table.groups()


def test_adding_replaces_a_row_and_rejects_a_second_plural_for_a_kind(
    table: ResourceTable,
) -> None:
    table.add(widget("v1"))
    renamed = widget("v1", plural="widgets", kind="Gadget")
    table.add(renamed)
    assert table.get("example.com", "v1", "widgets") == renamed
    assert table.by_kind("example.com", "v1", "Widget") is None
    with pytest.raises(ValueError, match="already served as widgets"):
        table.add(widget("v1", plural="gadgets", kind="Gadget"))
    assert table.get("example.com", "v1", "gadgets") is None


def test_custom_resource_groups_sort_by_apiservice_name(table: ResourceTable) -> None:
    table.add(widget("v1"))
    other = ResourceInfo("alpha.io", "v2", "Thing", "things", "thing", False, CRUD_VERBS)
    table.add(other)
    # Same CRD priority: APIService names "v1.example.com" < "v2.alpha.io".
    assert table.groups()[-2:] == ["example.com", "alpha.io"]


CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com",
        "scope": "Namespaced",
        "names": {
            "plural": "crontabs",
            "singular": "crontab",
            "kind": "CronTab",
            "shortNames": ["ct"],
            "categories": ["all"],
        },
        "versions": [
            {"name": "v1beta1", "served": True, "storage": False},
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.r"}},
            },
            {"name": "v0", "served": False, "storage": False},
        ],
    },
}


def test_rows_of_a_custom_resource_definition() -> None:
    beta, ga = custom_resources(CRD)
    assert (beta.version, ga.version) == ("v1beta1", "v1")
    assert ga.kind == "CronTab" and ga.plural == "crontabs" and ga.singular == "crontab"
    assert ga.namespaced and ga.short_names == ("ct",) and ga.categories == ("all",)
    assert ga.verbs == CRUD_VERBS
    assert beta.subresources == ()
    assert [s.name for s in ga.subresources] == ["scale", "status"]
    assert ga.subresource("scale") == Subresource("scale", "Scale", SUB, "autoscaling", "v1")
    storage = Storage("stable.example.com/crontabs", "stable.example.com", "v1", "CronTab")
    assert beta.storage == ga.storage == storage
    assert storage.version_hash == storage_version_hash("stable.example.com", "v1", "CronTab")
    table = ResourceTable.builtin()
    for row in custom_resources(CRD):
        table.add(row)
    assert table.versions("stable.example.com") == ["v1", "v1beta1"]
