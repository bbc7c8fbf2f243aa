"""Discovery: /api, /apis, /apis/GROUP and the resource list of each group/version.

The documents are built from the resource table on every request, so resources that
CustomResourceDefinitions add or remove show up at once. Shapes and ordering follow
kube-apiserver's legacy discovery (APIVersions, APIGroupList, APIGroup,
APIResourceList) and its aggregated discovery: `GET /api` and `GET /apis` answer an
`apidiscovery.k8s.io` (v2 or v2beta1) APIGroupDiscoveryList, every group with every
version and resource in one document, to a client whose Accept header asks for it
first (`aggregated_version`); kubectl then needs two requests instead of one per
group/version. Other clients keep getting the legacy documents.
"""

from __future__ import annotations

from typing import Any

from kybernetes.api.resources import ResourceInfo, ResourceTable

Document = dict[str, Any]

AGGREGATED_GROUP = "apidiscovery.k8s.io"
AGGREGATED_VERSIONS = ("v2", "v2beta1")
AGGREGATED_KIND = "APIGroupDiscoveryList"
_JSON_RANGES = ("application/json", "application/*", "*/*")


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


def aggregated_version(accept: str) -> str | None:
    """The apidiscovery.k8s.io version to answer with, as kube-apiserver negotiates
    `Accept` for /api and /apis: the first media range (by descending q, then in
    order) that is either aggregated discovery as JSON in a served version, or a plain
    type the legacy documents satisfy (None). None if no range says."""
    ranges: list[tuple[float, str, dict[str, str]]] = []
    for clause in accept.split(","):
        media_type, *raw_params = (part.strip() for part in clause.split(";"))
        params = dict(p.partition("=")[::2] for p in raw_params)
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            continue
        ranges.append((quality, media_type.lower(), params))
    for _, media_type, params in sorted(ranges, key=lambda r: -r[0]):
        if not params:
            if media_type in (*_JSON_RANGES, "application/vnd.kubernetes.protobuf"):
                return None
        elif media_type in _JSON_RANGES and (
            params.get("g") == AGGREGATED_GROUP
            and params.get("v") in AGGREGATED_VERSIONS
            and params.get("as") == AGGREGATED_KIND
        ):
            return params["v"]
    return None


def aggregated_content_type(version: str) -> str:
    """The Content-Type of an APIGroupDiscoveryList (clients check it)."""
    return f"application/json;g={AGGREGATED_GROUP};v={version};as={AGGREGATED_KIND}"


def aggregated_discovery(table: ResourceTable, core: bool, version: str) -> Document:
    """`GET /api` (`core`: the core group) or `GET /apis` (every named group, in
    discovery order) as an APIGroupDiscoveryList of apidiscovery.k8s.io/`version`."""
    groups = [""] if core else [g for g in table.groups() if g]
    return {
        "kind": AGGREGATED_KIND,
        "apiVersion": f"{AGGREGATED_GROUP}/{version}",
        "metadata": {},
        "items": [_group_discovery(table, group) for group in groups],
    }


def _group_discovery(table: ResourceTable, group: str) -> Document:
    versions = [
        {
            "version": version,
            "resources": [
                _resource_discovery(info)
                for info in sorted(table.resources(group, version), key=lambda i: i.plural)
            ],
            "freshness": "Current",
        }
        for version in table.versions(group)
    ]
    return {"metadata": {"name": group} if group else {}, "versions": versions}


def _resource_discovery(info: ResourceInfo) -> Document:
    """An APIResourceDiscovery. `responseKind` names the kind's group and version in
    full (kube-apiserver leaves them empty for built-in kinds, as in legacy discovery;
    clients read them the same way)."""
    doc: Document = {
        "resource": info.plural,
        "responseKind": {"group": info.group, "version": info.version, "kind": info.kind},
        "scope": "Namespaced" if info.namespaced else "Cluster",
        "singularResource": info.singular,
        "verbs": list(info.verbs),
    }
    if info.short_names:
        doc["shortNames"] = list(info.short_names)
    if info.categories:
        doc["categories"] = list(info.categories)
    if info.subresources:
        doc["subresources"] = [
            {
                "subresource": sub.name,
                "responseKind": {
                    "group": sub.group if sub.group else info.group,
                    "version": sub.version if sub.group else info.version,
                    "kind": sub.kind,
                },
                "verbs": list(sub.verbs),
            }
            for sub in info.subresources
        ]
    return doc
