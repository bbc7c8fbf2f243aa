"""The real kubectl prints our Tables: a minimal HTTP API (discovery plus one table
route) on loopback, queried with `kubectl get`."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from kybernetes.api.resources import ResourceTable
from kybernetes.apiserver.discovery import api_group_list, api_resource_list, api_versions
from kybernetes.apiserver.tables import parse_table_accept, table_for, watch_event_table

from .support import NOW, ago

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

TABLE = ResourceTable.builtin()
PODS = [
    {
        "metadata": {
            "name": "web",
            "namespace": "default",
            "creationTimestamp": ago(minutes=5),
            "resourceVersion": "3",
        },
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "nginx"}]},
        "status": {
            "phase": "Running",
            "podIPs": [{"ip": "10.0.0.7"}],
            "containerStatuses": [
                {
                    "ready": True,
                    "restartCount": 2,
                    "state": {"running": {}},
                    "lastState": {"terminated": {"finishedAt": ago(seconds=90)}},
                }
            ],
        },
    },
    {
        "metadata": {
            "name": "job-x",
            "namespace": "default",
            "creationTimestamp": ago(hours=3),
            "resourceVersion": "4",
        },
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [{"state": {"terminated": {"reason": "Completed"}}}],
        },
    },
]


async def _pods(request: web.Request) -> web.StreamResponse:
    pods = TABLE.get("", "v1", "pods")
    assert pods is not None
    accepted = parse_table_accept(request.headers.get("Accept", ""))
    assert accepted is not None, request.headers.get("Accept")
    include = request.query.get("includeObject", "Metadata")
    if request.query.get("watch") == "true":
        response = web.StreamResponse(headers={"Content-Type": accepted.content_type})
        await response.prepare(request)
        for index, pod in enumerate(PODS):
            table = watch_event_table(pods, pod, first=index == 0, include_object=include, now=NOW)
            await response.write(orjson.dumps({"type": "ADDED", "object": table}) + b"\n")
        return response
    table = table_for(
        pods,
        PODS,
        list_meta={"resourceVersion": "9"},
        include_object=include,
        table_version=accepted.group_version,
        now=NOW,
    )
    return web.Response(body=orjson.dumps(table), content_type=accepted.content_type)


def _serve(document: Any) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=orjson.dumps(document), content_type="application/json")

    return handler


@pytest.fixture
async def kubeconfig(tmp_path: Path) -> AsyncIterator[Path]:
    app = web.Application()
    app.router.add_get("/api", _serve(api_versions("127.0.0.1")))
    app.router.add_get("/apis", _serve(api_group_list(TABLE)))
    app.router.add_get("/api/v1", _serve(api_resource_list(TABLE, "", "v1")))
    app.router.add_get("/api/v1/namespaces/default/pods", _pods)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
        f"clusters: [{{name: t, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "contexts: [{name: t, context: {cluster: t, user: t, namespace: default}}]\n"
        "users: [{name: t, user: {}}]\n"
    )
    try:
        yield path
    finally:
        await runner.cleanup()


async def _kubectl(kubeconfig: Path, *args: str) -> str:
    assert KUBECTL is not None
    process = await asyncio.create_subprocess_exec(
        KUBECTL,
        f"--kubeconfig={kubeconfig}",
        f"--cache-dir={kubeconfig.parent / 'cache'}",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_kubectl_get(kubeconfig: Path) -> None:
    assert await _kubectl(kubeconfig, "get", "pods") == (
        "NAME    READY   STATUS      RESTARTS      AGE\n"
        "web     1/1     Running     2 (90s ago)   5m\n"
        "job-x   0/1     Completed   0             3h\n"
    )


async def test_kubectl_get_wide(kubeconfig: Path) -> None:
    lines = (await _kubectl(kubeconfig, "get", "pods", "-o", "wide")).splitlines()
    assert lines[0].split() == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED",
        "NODE",
        "READINESS",
        "GATES",
    ]
    assert lines[1].split() == [
        "web",
        "1/1",
        "Running",
        "2",
        "(90s",
        "ago)",
        "5m",
        "10.0.0.7",
        "node-1",
        "<none>",
        "<none>",
    ]


async def test_kubectl_get_show_labels_and_watch(kubeconfig: Path) -> None:
    labelled = await _kubectl(kubeconfig, "get", "pods", "--show-labels", "--no-headers")
    assert labelled.split()[-1] == "<none>"
    watched = await _kubectl(kubeconfig, "get", "pods", "--watch-only", "--request-timeout=5s")
    assert watched.splitlines()[0].split()[:3] == ["NAME", "READY", "STATUS"]
    assert [line.split()[0] for line in watched.splitlines()[1:]] == ["web", "job-x"]
