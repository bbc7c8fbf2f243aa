"""The kubelet's HTTPS API (port 10250): health, pods, container logs, exec, attach and
port-forward, as the API server's pods/log, pods/exec, pods/attach, pods/portforward
and nodes/proxy reach them.

Routes (Kubernetes' kubelet server paths):

    GET  /healthz                                  "ok"
    GET  /pods                                     PodList of this node's pods (if given)
    GET  /containerLogs/{namespace}/{pod}/{container}
         ?follow&tailLines&sinceSeconds&sinceTime&timestamps&previous&limitBytes
    GET|POST /exec/{namespace}/{pod}/{container}?command=..&stdin=1&stdout=1&stderr=1&tty=1
    GET|POST /attach/{namespace}/{pod}/{container}?stdin=1&stdout=1&stderr=1&tty=1
    GET|POST /portForward/{namespace}/{pod}         (?ports=.. for WebSocket clients)

Pods and containers are found through the runtime alone, by the CRI labels the kubelet
puts on them (`io.kubernetes.pod.namespace/name/uid`, `io.kubernetes.container.name`)
with the sandbox config's own fields as a fallback: the ready sandbox of the pod, and
in it the newest attempt of the container.

Authentication and authorization: TLS with the node's serving certificate; the client
must present a certificate signed by the cluster CA (the API server's
`kube-apiserver-kubelet-client`, or any `system:masters` member), else 401/403 — the
kubelet's x509 authentication with `--client-ca-file`, and what its webhook
authorizer would answer for those identities. Errors are `metav1.Status` JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from kybernetes.client.clock import Clock, SystemClock
from kybernetes.kubelet import logs
from kybernetes.kubelet.runtime.interface import (
    ContainerState,
    ContainerStatus,
    PodSandboxStatus,
    RuntimeService,
    SandboxState,
    StreamedProcess,
)
from kybernetes.kubelet.streaming import handlers
from kybernetes.kubelet.streaming.portforward import PodRef
from kybernetes.kubelet.streaming.remotecommand import StreamOptions

POD_NAME, POD_NAMESPACE, POD_UID = (
    "io.kubernetes.pod.name",
    "io.kubernetes.pod.namespace",
    "io.kubernetes.pod.uid",
)
CONTAINER_NAME = "io.kubernetes.container.name"
RESTART_COUNT = "io.kubernetes.container.restartCount"
APISERVER_CLIENT = "kube-apiserver-kubelet-client"
MASTERS = "system:masters"


class KubeletError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason = code, reason


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _error_response(code: int, reason: str, message: str, headers: Any = None) -> web.Response:
    body = json.dumps(status_body(code, reason, message)).encode()
    return web.Response(
        status=code, body=body, content_type="application/json", headers=headers or {}
    )


def serving_ssl_context(cert_path: str, key_path: str, ca_path: str) -> ssl.SSLContext:
    """TLS 1.2+, the node's serving certificate, client certificates checked against
    the cluster CA when presented (authorization then requires one)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    context.load_verify_locations(cafile=ca_path)
    context.verify_mode = ssl.CERT_OPTIONAL
    context.set_alpn_protocols(["http/1.1"])
    return context


def _subject(cert: dict[str, Any]) -> tuple[str, list[str]]:
    user, groups = "", []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                user = value
            elif key == "organizationName":
                groups.append(value)
    return user, groups


@web.middleware
async def _auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path == "/healthz":
        return await handler(request)
    transport = request.transport
    cert = transport.get_extra_info("peercert") if transport is not None else None
    if not cert:
        return _error_response(401, "Unauthorized", "Unauthorized")
    user, groups = _subject(cert)
    if user != APISERVER_CLIENT and MASTERS not in groups:
        verb = request.method.lower()
        message = f"Forbidden (user={user}, verb={verb}, resource=nodes, subresource=proxy)"
        return _error_response(403, "Forbidden", message)
    try:
        return await handler(request)
    except KubeletError as e:
        return _error_response(e.code, e.reason, str(e))
    except handlers.StreamingError as e:
        reason = "Forbidden" if e.code == 403 else "BadRequest"
        return _error_response(e.code, reason, str(e), e.headers)


def _labels_match(sandbox: PodSandboxStatus, namespace: str, name: str) -> bool:
    labels = sandbox.config.labels
    return (
        labels.get(POD_NAMESPACE, sandbox.config.namespace),
        labels.get(POD_NAME, sandbox.config.name),
    ) == (namespace, name)


class KubeletServer:
    """Serves the kubelet API on `host:port` while the context is entered."""

    def __init__(
        self,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext,
        runtime: RuntimeService,
        logs_root: str,
        *,
        pods: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.host, self._port = host, port
        self._ssl = ssl_context
        self.runtime = runtime
        self.logs_root = logs_root
        self._pods = pods
        self._clock = clock or SystemClock()
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The bound port (the one picked when constructed with 0)."""
        return self._port

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_auth_middleware])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/pods", self._list_pods)
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self._logs)
        for method in ("GET", "POST"):
            app.router.add_route(method, "/exec/{namespace}/{pod}/{container}", self._exec)
            app.router.add_route(method, "/attach/{namespace}/{pod}/{container}", self._attach)
            app.router.add_route(method, "/portForward/{namespace}/{pod}", self._port_forward)
        return app

    async def __aenter__(self) -> KubeletServer:
        runner = web.AppRunner(self.app(), handler_cancellation=True, shutdown_timeout=2.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self._port, ssl_context=self._ssl)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    async def _list_pods(self, request: web.Request) -> web.StreamResponse:
        items = await self._pods() if self._pods is not None else []
        body = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
        return web.json_response(body)

    async def _sandbox(self, namespace: str, name: str) -> PodSandboxStatus:
        sandboxes = [
            s for s in await self.runtime.list_pod_sandboxes() if _labels_match(s, namespace, name)
        ]
        ready = [s for s in sandboxes if s.state == SandboxState.READY]
        if not ready:
            raise KubeletError(404, "NotFound", "pod does not exist")
        return max(ready, key=lambda s: s.created_at)

    async def _containers(self, sandbox: PodSandboxStatus, name: str) -> list[ContainerStatus]:
        found = [
            c
            for c in await self.runtime.list_containers(sandbox.id)
            if c.labels.get(CONTAINER_NAME, c.name) == name
        ]
        return sorted(found, key=lambda c: (c.attempt, c.created_at), reverse=True)

    async def _running(self, request: web.Request) -> tuple[PodSandboxStatus, ContainerStatus]:
        info = request.match_info
        sandbox = await self._sandbox(info["namespace"], info["pod"])
        for container in await self._containers(sandbox, info["container"]):
            if container.state == ContainerState.RUNNING:
                return sandbox, container
        raise KubeletError(404, "NotFound", f'container not found ("{info["container"]}")')

    async def _exec(self, request: web.Request) -> web.StreamResponse:
        command = request.query.getall("command", [])
        if not command:
            raise KubeletError(400, "BadRequest", "missing command")
        options = _stream_options(request)
        _, container = await self._running(request)

        async def start(options: StreamOptions) -> StreamedProcess:
            return await self.runtime.exec(
                container.id, command, tty=options.tty, stdin=options.stdin
            )

        return await handlers.serve_command(request, options, start, command)

    async def _attach(self, request: web.Request) -> web.StreamResponse:
        options = _stream_options(request)
        _, container = await self._running(request)

        async def start(options: StreamOptions) -> StreamedProcess:
            return await self.runtime.attach(container.id, tty=options.tty, stdin=options.stdin)

        return await handlers.serve_command(request, options, start, None)

    async def _port_forward(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        sandbox = await self._sandbox(info["namespace"], info["pod"])
        pod = PodRef(info["pod"], sandbox.config.labels.get(POD_UID, sandbox.config.uid))

        async def forwarder(port: int) -> Any:
            return await self.runtime.port_forward(sandbox.id, port)

        return await handlers.serve_port_forward(request, forwarder, pod)

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        options, previous = _log_options(request.query)
        sandbox = await self._sandbox(info["namespace"], info["pod"])
        containers = await self._containers(sandbox, info["container"])
        if not containers:
            message = f'container "{info["container"]}" in pod "{info["pod"]}" is not available'
            raise KubeletError(400, "BadRequest", message)
        current = containers[0]
        path = self._log_path(sandbox, current, previous)
        if not await asyncio.to_thread(os.path.exists, path):
            if previous:
                message = (
                    f'previous terminated container "{info["container"]}" in pod '
                    f'"{info["pod"]}" not found'
                )
                raise KubeletError(400, "BadRequest", message)
            raise KubeletError(404, "NotFound", f"log file for container {current.id} not found")

        async def is_running() -> bool:
            status = await self.runtime.container_status(current.id)
            return status.state == ContainerState.RUNNING

        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        running = None if previous else is_running
        async for chunk in logs.read_logs(path, options, self._clock, running):
            await response.write(chunk)
        await response.write_eof()
        return response

    def _log_path(
        self, sandbox: PodSandboxStatus, container: ContainerStatus, previous: bool
    ) -> str:
        config = sandbox.config
        directory = config.log_directory or os.path.join(
            self.logs_root, f"{config.namespace}_{config.name}_{config.uid}"
        )
        restarts = int(container.annotations.get(RESTART_COUNT, container.attempt))
        if previous:
            return logs.container_log_path(directory, container.name, restarts - 1)
        if container.log_path:
            return os.path.join(directory, container.log_path)
        return logs.container_log_path(directory, container.name, restarts)


def _stream_options(request: web.Request) -> StreamOptions:
    try:
        return StreamOptions.from_query(request.query)
    except ValueError as e:
        raise KubeletError(400, "BadRequest", str(e)) from None


def _log_options(query: Any) -> tuple[logs.LogOptions, bool]:
    """The query as the API server forwards PodLogOptions; 400 on bad values."""

    def number(name: str) -> int | None:
        value = query.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError:
            raise KubeletError(400, "BadRequest", f'invalid {name} "{value}"') from None

    since_time = None
    if query.get("sinceTime"):
        try:
            since_time = datetime.fromisoformat(query["sinceTime"].replace("Z", "+00:00"))
        except ValueError:
            raise KubeletError(400, "BadRequest", "invalid sinceTime") from None
    options = logs.LogOptions(
        tail_lines=number("tailLines"),
        since_time=since_time,
        since_seconds=number("sinceSeconds"),
        timestamps=query.get("timestamps") in ("true", "1"),
        follow=query.get("follow") in ("true", "1"),
        limit_bytes=number("limitBytes"),
    )
    return options, query.get("previous") in ("true", "1")
