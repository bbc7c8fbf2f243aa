"""kubectl discovers the API through aggregated discovery: two requests, /api and /apis,
and `kubectl api-resources` still lists every served resource."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from kubernetes import client

from tests.e2e.conftest import Cluster

_GET = re.compile(r"\bGET (https://\S+?)(?:\?\S*)? (\d{3})\b")


def _get(api: client.ApiClient, path: str) -> Any:
    url = api.configuration.host + path
    response = api.call_api("GET", url, header_params={"Accept": "application/json"})
    response.read()
    assert response.status == 200, (path, response.data)
    return json.loads(response.data)


def legacy_resource_names(api: client.ApiClient) -> set[str]:
    """What `kubectl api-resources -o name` should print, from the legacy documents the
    official client reads: each group's resources over all its versions."""
    names = {r["name"] for r in _get(api, "/api/v1")["resources"] if "/" not in r["name"]}
    for group in _get(api, "/apis")["groups"]:
        for version in group["versions"]:
            listed = _get(api, f"/apis/{version['groupVersion']}")["resources"]
            names |= {f"{r['name']}.{group['name']}" for r in listed if "/" not in r["name"]}
    return names


def test_kubectl_discovers_with_two_aggregated_requests(cluster: Cluster, tmp_path: Path) -> None:
    cache = tmp_path / "kubectl-cache"  # empty: nothing discovered yet
    output = cluster.kubectl(
        "api-resources", "-o", "name", "--cache-dir", str(cache), "-v=6", check=False
    )
    gets = [(url.rsplit("/", 1)[-1], code) for url, code in _GET.findall(output)]
    assert gets == [("api", "200"), ("apis", "200")], output
    listed = {line for line in output.splitlines() if line and " " not in line}
    assert listed == legacy_resource_names(cluster.api_client())
