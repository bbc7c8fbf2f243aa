"""Health endpoints: /livez, /readyz, /healthz and their per-check sub-paths.

Components register named checks on the app's `HealthChecks` (`app[HEALTH_KEY]`):
liveness checks answer "is this process working at all" (a failing one means restart
it); readiness checks "should it get traffic yet" (the store reachable, informers
synced). /livez runs the liveness checks, /readyz and /healthz run both kinds.

The output follows Kubernetes' `healthz` package: "ok" when every check passes; with
`?verbose`, one `[+]name ok` line per check and `readyz check passed`; on failure,
always verbose, `[-]name failed: reason withheld` (the reason is logged, not shown:
these paths are public), `readyz check failed` and status 500. `?exclude=name` skips
a check. `/readyz/<name>` runs one check: "ok", or 500 `internal server error: <why>`.

A check is an async callable that returns when healthy and raises when not. Checks run
in registration order, one at a time, on every request: they must be cheap and must
bound their own waits. The built-in "ping" liveness check always passes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[None]]

ENDPOINTS = ("healthz", "livez", "readyz")
_HEADERS = {"X-Content-Type-Options": "nosniff"}


async def _ping() -> None:
    return None


class HealthChecks:
    """The named checks behind the health endpoints. Registration is not thread-safe;
    register before or while serving from the event loop's thread."""

    def __init__(self) -> None:
        self._liveness: dict[str, HealthCheck] = {"ping": _ping}
        self._readiness: dict[str, HealthCheck] = {}

    def add_liveness_check(self, name: str, check: HealthCheck) -> None:
        """Adds a check to /livez, /readyz and /healthz. Raises ValueError if the name
        is taken."""
        self._claim(name)
        self._liveness[name] = check

    def add_readiness_check(self, name: str, check: HealthCheck) -> None:
        """Adds a check to /readyz and /healthz. Raises ValueError if the name is taken."""
        self._claim(name)
        self._readiness[name] = check

    def checks(self, endpoint: str) -> dict[str, HealthCheck]:
        """The checks `endpoint` ("livez", "readyz" or "healthz") runs, in order."""
        if endpoint == "livez":
            return dict(self._liveness)
        return {**self._liveness, **self._readiness}

    def _claim(self, name: str) -> None:
        if not name or "/" in name:
            raise ValueError(f"invalid health check name {name!r}")
        if name in self._liveness or name in self._readiness:
            raise ValueError(f"health check {name!r} is already registered")


HEALTH_KEY = web.AppKey("health", HealthChecks)


async def _run(endpoint: str, name: str, check: HealthCheck) -> Exception | None:
    try:
        await check()
    except Exception as e:
        log.info("%s check %s failed: %s", endpoint, name, _describe(e))
        return e
    return None


def _describe(e: Exception) -> str:
    return str(e) or type(e).__name__


def _text(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, headers=_HEADERS)


def _endpoint_handler(endpoint: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        checks = request.app[HEALTH_KEY].checks(endpoint)
        excluded = dict.fromkeys(request.query.getall("exclude", []))
        lines: list[str] = []
        failed = False
        for name, check in checks.items():
            if name in excluded:
                del excluded[name]
                lines.append(f"[+]{name} excluded: ok\n")
            elif await _run(endpoint, name, check) is not None:
                failed = True
                lines.append(f"[-]{name} failed: reason withheld\n")
            else:
                lines.append(f"[+]{name} ok\n")
        if excluded:
            quoted = ",".join(f'"{n}"' for n in sorted(excluded))
            lines.append(f"warn: some health checks cannot be excluded: no matches for {quoted}\n")
        if failed:
            return _text("".join(lines) + f"{endpoint} check failed\n", status=500)
        if "verbose" not in request.query:
            return _text("ok")
        return _text("".join(lines) + f"{endpoint} check passed\n")

    return handle


def _check_handler(endpoint: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        name = request.match_info["check"]
        check = request.app[HEALTH_KEY].checks(endpoint).get(name)
        if check is None:
            raise web.HTTPNotFound()
        error = await _run(endpoint, name, check)
        if error is not None:
            return _text(f"internal server error: {_describe(error)}\n", status=500)
        return _text("ok")

    return handle


def add_health_routes(app: web.Application) -> None:
    """Installs a `HealthChecks` as `app[HEALTH_KEY]` and the endpoints that serve it."""
    app[HEALTH_KEY] = HealthChecks()
    for endpoint in ENDPOINTS:
        app.router.add_get(f"/{endpoint}", _endpoint_handler(endpoint))
        app.router.add_get(f"/{endpoint}/{{check}}", _check_handler(endpoint))
