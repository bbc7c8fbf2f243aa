"""Container probes (startup, liveness, readiness) and the handler actions they share
with lifecycle hooks: exec (`RuntimeService.exec_sync`), httpGet and tcpSocket to the
pod's IP (or `host`).

`run_action(...)` performs one action and answers (success, message): exec succeeds
on exit status 0; httpGet on a 2xx/3xx answer within the timeout; tcpSocket when the
connection opens. Without a network (`network=False`, the simulated runtime) httpGet
and tcpSocket have nothing to reach and count as successes. gRPC probes are not
supported: they fail with a message saying so.

`ProbeManager` runs one task per probe of a running container (in its own TaskGroup,
`run()`), following pkg/kubelet/prober: nothing before `initialDelaySeconds`, then
every `periodSeconds`; `successThreshold` consecutive successes set the result,
`failureThreshold` consecutive failures clear it. Results before the first probe:
startup "not started", readiness "not ready", liveness "alive". Readiness and
liveness wait until the startup probe succeeded. A container whose liveness or
startup probe failed is marked for killing (`kill_reason`); its probes stop. Any
change of a result calls `on_change(pod_uid)`. Per-container state is dropped by
`remove(container_id)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from kybernetes.client import Clock, EventRecorder

from .runtime.interface import ContainerRuntimeError, NotFound, RuntimeService

log = logging.getLogger(__name__)
Obj = dict[str, Any]
KINDS = ("startupProbe", "livenessProbe", "readinessProbe")
_NAMES = {"startupProbe": "Startup", "livenessProbe": "Liveness", "readinessProbe": "Readiness"}


def _port(value: Any, container: Mapping[str, Any]) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    for port in container.get("ports") or []:
        if port.get("name") == value:
            return int(port.get("containerPort", 0))
    raise ValueError(f"port {value!r} is not a named port of the container")


async def run_action(
    runtime: RuntimeService,
    container_id: str,
    container: Mapping[str, Any],
    action: Mapping[str, Any],
    pod_ip: str,
    timeout: float,  # noqa: ASYNC109 (a probe's timeoutSeconds, applied inside)
    *,
    network: bool = True,
    session: aiohttp.ClientSession | None = None,
) -> tuple[bool, str]:
    """Runs an exec / httpGet / tcpSocket / grpc action; (success, message)."""
    try:
        if "exec" in action:
            command = (action["exec"] or {}).get("command") or []
            result = await runtime.exec_sync(container_id, command, timeout)
            output = (result.stdout + result.stderr).decode(errors="replace")
            if result.exit_code == 0:
                return True, output
            return False, output or f"command {command!r} exited with {result.exit_code}"
        if "grpc" in action:
            return (not network), "" if not network else "gRPC probes are not supported"
        if not network:
            return True, ""
        if "httpGet" in action:
            return await _http_get(action["httpGet"], container, pod_ip, timeout, session)
        if "tcpSocket" in action:
            tcp = action["tcpSocket"]
            host = tcp.get("host") or pod_ip
            port = _port(tcp.get("port"), container)
            async with asyncio.timeout(timeout):
                _, writer = await asyncio.open_connection(host, port)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True, ""
        return False, "the handler has no action"
    except TimeoutError:
        return False, f"timeout: failed to complete within {timeout:g}s"
    except (ContainerRuntimeError, NotFound, OSError, ValueError, aiohttp.ClientError) as e:
        return False, str(e) or type(e).__name__


async def _http_get(
    get: Mapping[str, Any],
    container: Mapping[str, Any],
    pod_ip: str,
    timeout: float,  # noqa: ASYNC109 (a probe's timeoutSeconds, applied inside)
    session: aiohttp.ClientSession | None,
) -> tuple[bool, str]:
    scheme = str(get.get("scheme") or "HTTP").lower()
    host = get.get("host") or pod_ip
    if ":" in host:
        host = f"[{host}]"
    path = get.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{host}:{_port(get.get('port'), container)}{path}"
    headers = {"User-Agent": "kube-probe/1.32", "Accept": "*/*"}
    headers.update({h["name"]: h.get("value", "") for h in get.get("httpHeaders") or []})
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    own = session is None
    session = session or aiohttp.ClientSession()
    try:
        async with session.get(
            url,
            headers=headers,
            ssl=context if scheme == "https" else False,
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=True,
        ) as response:
            body = (await response.content.read(10240)).decode(errors="replace")
            if 200 <= response.status < 400:
                return True, body
            return False, f"HTTP probe failed with statuscode: {response.status}"
    finally:
        if own:
            await session.close()


@dataclass(slots=True)
class _State:
    pod_uid: str
    started: bool
    ready: bool
    kill: str = ""


class ProbeManager:
    """Runs the probes of running containers (see module docstring)."""

    def __init__(
        self,
        runtime: RuntimeService,
        clock: Clock,
        on_change: Callable[[str], None],
        *,
        network: bool = True,
        recorder: EventRecorder | None = None,
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._on_change = on_change
        self._network = network
        self._recorder = recorder
        self._states: dict[str, _State] = {}
        self._tasks: dict[str, list[asyncio.Task[None]]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._session: aiohttp.ClientSession | None = None
        self._pending: list[tuple[Obj, Obj, str, str]] = []

    async def run(self) -> None:
        """Runs probe tasks until cancelled."""
        async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
            self._group, self._session = group, session
            pending, self._pending = self._pending, []
            for args in pending:
                self._start(*args)
            try:
                await asyncio.Future()
            finally:
                self._group = self._session = None
                for tasks in self._tasks.values():
                    for task in tasks:
                        task.cancel()
                self._tasks.clear()

    def add(self, pod: Obj, container: Obj, container_id: str, pod_ip: str) -> None:
        """Starts the probes of a newly running container (idempotent per id)."""
        if container_id in self._states:
            return
        probes = {k: container[k] for k in KINDS if container.get(k)}
        uid = pod["metadata"]["uid"]
        self._states[container_id] = _State(uid, "startupProbe" not in probes, False)
        if not probes:
            return
        if self._group is None:  # run() has not started yet: it starts them
            self._pending.append((pod, container, container_id, pod_ip))
        else:
            self._start(pod, container, container_id, pod_ip)

    def _start(self, pod: Obj, container: Obj, container_id: str, pod_ip: str) -> None:
        assert self._group is not None
        if container_id not in self._states:
            return  # removed meanwhile
        self._tasks[container_id] = [
            self._group.create_task(
                self._probe(kind, container[kind], pod, container, container_id, pod_ip)
            )
            for kind in KINDS
            if container.get(kind)
        ]

    def remove(self, container_id: str) -> None:
        self._states.pop(container_id, None)
        for task in self._tasks.pop(container_id, []):
            task.cancel()

    def started(self, container_id: str) -> bool | None:
        state = self._states.get(container_id)
        return state.started if state else None

    def ready(self, container_id: str) -> bool | None:
        state = self._states.get(container_id)
        return state.ready if state else None

    def kill_reason(self, container_id: str) -> str:
        """Why the container must be killed (a failed liveness/startup probe), or ""."""
        state = self._states.get(container_id)
        return state.kill if state else ""

    async def _probe(
        self, kind: str, probe: Obj, pod: Obj, container: Obj, container_id: str, pod_ip: str
    ) -> None:
        state = self._states[container_id]
        period = float(probe.get("periodSeconds") or 10)
        timeout = float(probe.get("timeoutSeconds") or 1)
        success_threshold = int(probe.get("successThreshold") or 1)
        failure_threshold = int(probe.get("failureThreshold") or 3)
        await self._clock.sleep(float(probe.get("initialDelaySeconds") or 0))
        successes = failures = 0
        while True:
            if kind != "startupProbe" and not state.started:
                await self._clock.sleep(period)
                continue
            ok, message = await run_action(
                self._runtime, container_id, container, probe, pod_ip, timeout,
                network=self._network, session=self._session,
            )  # fmt: skip
            successes, failures = (successes + 1, 0) if ok else (0, failures + 1)
            if not ok and self._recorder is not None:
                ref = {**_reference(pod), "fieldPath": f"spec.containers{{{container['name']}}}"}
                text = f"{_NAMES[kind]} probe failed: {message}".strip()
                self._recorder.event(ref, "Warning", "Unhealthy", text)
            if ok and successes >= success_threshold:
                self._set(state, kind, True)
                if kind == "startupProbe":
                    return
            elif not ok and failures >= failure_threshold:
                self._set(state, kind, False)
                if kind != "readinessProbe":
                    verb = "liveness" if kind == "livenessProbe" else "startup"
                    state.kill = (
                        f"Container {container['name']} failed {verb} probe, will be restarted"
                    )
                    self._on_change(state.pod_uid)
                    return
            await self._clock.sleep(period)

    def _set(self, state: _State, kind: str, value: bool) -> None:
        if kind == "startupProbe" and state.started != value:
            state.started = value
        elif kind == "readinessProbe" and state.ready != value:
            state.ready = value
        else:
            return
        self._on_change(state.pod_uid)


def _reference(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
    }
