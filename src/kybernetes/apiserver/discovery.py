"""Discovery: /api, /apis, /apis/GROUP and the resource list of each group/version.

The documents are built from the resource table on every request, so resources that
CustomResourceDefinitions add or remove show up at once. Shapes and ordering follow
kube-apiserver's legacy discovery (APIVersions, APIGroupList, APIGroup,
APIResourceList); clients that ask for aggregated discovery first (kubectl) fall back
to these documents when the answer's Content-Type is plain JSON.
"""

from __future__ import annotations

from typing import Any

from kybernetes.api.resources import ResourceInfo, ResourceTable

Document = dict[str, Any]


def api_versions(server_address: str) -> Document:
    """`GET /api`: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_group(table: ResourceTable, group: str) -> Document | None:
    """`GET /apis/GROUP`, or None for an unknown group."""
    versions = table.versions(group)
    if not group or not versions:
        return None
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_group_list(table: ResourceTable) -> Document:
    """`GET /apis`: every named group, in discovery order."""
    groups = [api_group(table, g) for g in table.groups() if g]
    for g in groups:
        if g is not None:
            del g["kind"], g["apiVersion"]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(table: ResourceTable, group: str, version: str) -> Document | None:
    """`GET /api/v1` or `/apis/GROUP/VERSION`, or None for an unknown group/version."""
    infos = table.resources(group, version)
    if not infos:
        return None
    resources: list[Document] = []
    for info in sorted(infos, key=lambda i: i.plural):
        resources.append(_resource(info))
        resources += [_subresource(info, sub.name) for sub in info.subresources]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def _resource(info: ResourceInfo) -> Document:
    doc: Document = {
        "name": info.plural,
        "singularName": info.singular,
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": list(info.verbs),
    }
    if info.short_names:
        doc["shortNames"] = list(info.short_names)
    if info.categories:
        doc["categories"] = list(info.categories)
    if info.storage is not None:
        doc["storageVersionHash"] = info.storage.version_hash
    return doc


def _subresource(info: ResourceInfo, name: str) -> Document:
    sub = info.subresource(name)
    assert sub is not None
    doc: Document = {
        "name": f"{info.plural}/{sub.name}",
        "singularName": "",
        "namespaced": info.namespaced,
        "kind": sub.kind,
        "verbs": list(sub.verbs),
    }
    if sub.group:
        doc["group"], doc["version"] = sub.group, sub.version
    return doc
