"""The real kubectl against the OpenAPI routes: it must conclude that the server validates
fields itself, explain built-in and custom kinds, and compute apply patches from the
documents, without ever falling back to /openapi/v2 unless asked to.

The server is the OpenAPI routes plus discovery (over one resource table) and a toy
object store that records every request: enough API for create, explain and apply.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from aiohttp import web
from aiohttp.typedefs import Handler

from kybernetes.api.resources import ResourceTable, custom_resources
from kybernetes.apiserver import discovery, status
from kybernetes.apiserver.openapi import OPENAPI_KEY, add_openapi_routes

from .test_kubectl import kubectl, needs_kubectl
from .test_openapi import CRD, CRONTAB_SCHEMA

pytestmark = needs_kubectl

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    accept: str
    body: bytes


class FakeAPIServer:
    """Discovery and OpenAPI documents of `table`; objects at their paths."""

    def __init__(self, table: ResourceTable) -> None:
        self.table = table
        self.url = ""  # set once serving
        self.requests: list[Recorded] = []
        self.objects: dict[str, Any] = {}
        self.app = web.Application(middlewares=[status.status_middleware, self._record])
        add_openapi_routes(self.app, lambda: table)
        for prefix in ("/api", "/apis"):
            self.app.router.add_route("*", prefix, self._api)
            self.app.router.add_route("*", prefix + "/{tail:.*}", self._api)

    def store(self, path: str, obj: Any) -> None:
        """Serves `obj` at `path`, as if `kubectl apply` had created it."""
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(obj)}
        obj["metadata"]["resourceVersion"] = "1"
        self.objects[path] = obj

    def sent(self, method: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method]

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                request.content_type,
                request.headers.get("Accept", ""),
                body,
            )
        )
        return await handler(request)

    async def _api(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/")
        if request.method == "POST":
            return web.json_response(await request.json(), status=201)
        if path in self.objects:
            return web.json_response(self.objects[path])  # GET or PATCH (unchanged)
        parts = path.strip("/").split("/")
        document: Any = None
        if parts == ["api"]:
            document = discovery.api_versions(request.host)
        elif parts == ["apis"]:
            document = discovery.api_group_list(self.table)
        elif parts[0] == "api" and len(parts) == 2:
            document = discovery.api_resource_list(self.table, "", parts[1])
        elif len(parts) == 2:
            document = discovery.api_group(self.table, parts[1])
        elif len(parts) == 3:
            document = discovery.api_resource_list(self.table, parts[1], parts[2])
        if document is None:
            raise status.not_found(parts[-2], parts[-1])
        return web.json_response(document)


@pytest.fixture
async def server() -> AsyncIterator[FakeAPIServer]:
    fake = FakeAPIServer(ResourceTable.builtin())
    runner = web.AppRunner(fake.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    fake.url = f"http://{host}:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


Kubectl = Callable[..., Awaitable[tuple[int, str, str]]]
"""Runs kubectl with these arguments: (return code, stdout, stderr)."""


@pytest.fixture
def run(server: FakeAPIServer, tmp_path: Path) -> Kubectl:
    """kubectl against `server`, with its own cache directory (HOME)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": server.url}}],
        "users": [{"name": "anyone", "user": {}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "anyone"}}],
        "current-context": "fake",
    }
    path = tmp_path / "kubeconfig.yaml"
    path.write_text(yaml.safe_dump(config))

    async def run(*args: str) -> tuple[int, str, str]:
        return await kubectl(path, tmp_path, *args)

    return run


def write(tmp_path: Path, name: str, obj: Any) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(obj))
    return str(path)


CONFIGMAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "default"},
    "data": {"color": "blue"},
}
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {"name": "app", "image": "busybox:1"},
                    {"name": "sidecar", "image": "nginx:1"},
                ]
            },
        },
    },
}
CRONTAB = {
    "apiVersion": "stable.example.com/v1",
    "kind": "CronTab",
    "metadata": {"name": "nightly", "namespace": "default"},
    "spec": {"cronSpec": "0 3 * * *", "image": "backup:1"},
}


async def test_create_leaves_field_validation_to_the_server(
    server: FakeAPIServer, run: Kubectl, tmp_path: Path
) -> None:
    manifest = write(tmp_path, "configmap.yaml", CONFIGMAP)
    code, out, err = await run("create", "-f", manifest, "--dry-run=server", "-o", "json")
    assert code == 0, err
    assert json.loads(out)["metadata"]["name"] == "settings"
    (post,) = server.sent("POST")
    assert post.path == "/api/v1/namespaces/default/configmaps"
    assert post.query["fieldValidation"] == "Strict"
    assert post.query["dryRun"] == "All"
    fetched = [r.path for r in server.sent("GET") if r.path.startswith("/openapi")]
    assert fetched == ["/openapi/v3", "/openapi/v3/api/v1"]


async def test_explain_reads_the_v3_documents(server: FakeAPIServer, run: Kubectl) -> None:
    code, out, err = await run("explain", "pods.spec.containers")
    assert code == 0, err
    assert "KIND:       Pod" in out
    assert "FIELD: containers <[]Container>" in out
    assert "image\t<string>" in out
    assert "ports\t<[]ContainerPort>" in out

    code, out, err = await run("explain", "deployment.spec.strategy")
    assert code == 0, err
    assert "GROUP:      apps" in out
    assert "FIELD: strategy <DeploymentStrategy>" in out
    assert "rollingUpdate\t<RollingUpdateDeployment>" in out
    assert not [r for r in server.requests if r.path == "/openapi/v2"]


async def test_explain_reads_the_v2_protobuf_when_asked(
    server: FakeAPIServer, run: Kubectl
) -> None:
    code, out, err = await run(
        "explain", "deployment.spec.strategy", "--output=plaintext-openapiv2"
    )
    assert code == 0, err
    assert "RESOURCE: strategy <Object>" in out
    assert "rollingUpdate\t<Object>" in out
    (v2,) = [r for r in server.requests if r.path == "/openapi/v2"]
    assert "protobuf" in v2.accept


async def test_apply_computes_a_strategic_merge_patch(
    server: FakeAPIServer, run: Kubectl, tmp_path: Path
) -> None:
    server.store("/apis/apps/v1/namespaces/default/deployments/web", DEPLOYMENT)
    changed = json.loads(json.dumps(DEPLOYMENT))
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:2"
    code, _, err = await run("apply", "-f", write(tmp_path, "deployment.yaml", changed))
    assert code == 0, err
    (patch,) = server.sent("PATCH")
    assert patch.content_type == "application/strategic-merge-patch+json"
    assert patch.query["fieldValidation"] == "Strict"
    spec = orjson.loads(patch.body)["spec"]["template"]["spec"]
    assert spec["containers"] == [{"image": "busybox:2", "name": "app"}]  # merged by name
    assert spec["$setElementOrder/containers"] == [{"name": "app"}, {"name": "sidecar"}]


async def test_custom_resources(server: FakeAPIServer, run: Kubectl, tmp_path: Path) -> None:
    (row,) = custom_resources(CRD)
    server.table.add(row)
    server.app[OPENAPI_KEY].catalog.set_custom_resource(row, CRONTAB_SCHEMA)

    code, out, err = await run("explain", "crontabs.spec")
    assert code == 0, err
    assert "GROUP:      stable.example.com" in out
    assert "cronSpec\t<string>" in out and "When to run, cron-style." in out

    manifest = write(tmp_path, "crontab.yaml", CRONTAB)
    code, _, err = await run("create", "-f", manifest, "--dry-run=server")
    assert code == 0, err
    (post,) = server.sent("POST")
    assert post.path == "/apis/stable.example.com/v1/namespaces/default/crontabs"
    assert post.query["fieldValidation"] == "Strict"

    # Custom resources take no strategic merge patch: apply sends a JSON merge patch.
    server.store("/apis/stable.example.com/v1/namespaces/default/crontabs/nightly", CRONTAB)
    changed = json.loads(json.dumps(CRONTAB))
    changed["spec"]["image"] = "backup:2"
    code, _, err = await run("apply", "-f", write(tmp_path, "crontab.yaml", changed))
    assert code == 0, err
    (patch,) = server.sent("PATCH")
    assert patch.content_type == "application/merge-patch+json"
    assert orjson.loads(patch.body)["spec"] == {"image": "backup:2"}
