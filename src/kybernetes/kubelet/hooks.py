"""Container lifecycle hooks: postStart and preStop (pkg/kubelet/lifecycle/handlers.go).

`run_hook(...)` runs a container's `lifecycle.postStart` or `lifecycle.preStop`
handler — exec, httpGet (to the pod IP unless `host` is set) or sleep — bounded by
`timeout` seconds; it answers "" on success (or when there is no such hook), else the
message Kubernetes puts in its FailedPostStartHook / FailedPreStopHook events.
A failed postStart kills the container (the caller does that); a preStop's failure
is only reported, and termination goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from kybernetes.client import Clock

from .probes import run_action
from .runtime.interface import RuntimeService


async def run_hook(
    runtime: RuntimeService,
    clock: Clock,
    container_id: str,
    container: Mapping[str, Any],
    hook: str,
    pod_ip: str,
    timeout: float,  # noqa: ASYNC109 (a probe's timeoutSeconds, applied inside)
    *,
    network: bool = True,
) -> str:
    """Runs `hook` ("postStart" or "preStop"); "" on success, else why it failed."""
    handler = ((container.get("lifecycle") or {}).get(hook)) or {}
    if not handler:
        return ""
    if "sleep" in handler:
        seconds = float((handler["sleep"] or {}).get("seconds") or 0)
        await clock.sleep(min(seconds, max(timeout, 0.0)))
        return ""
    try:
        async with asyncio.timeout(max(timeout, 0.001)):
            ok, message = await run_action(
                runtime, container_id, container, handler, pod_ip, timeout, network=network
            )
    except TimeoutError:
        ok, message = False, f"timeout after {timeout:g}s"
    if ok:
        return ""
    if "exec" in handler:
        what = "Exec", " ".join((handler["exec"] or {}).get("command") or [])
    else:
        what = "HTTP", str((handler.get("httpGet") or {}).get("path", ""))
    name = container.get("name")
    return (
        f'{what[0]} lifecycle hook ([{what[1]}]) for Container "{name}" failed - error: {message}'
    )
