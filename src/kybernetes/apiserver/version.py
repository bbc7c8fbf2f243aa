"""/version: the Kubernetes version this server implements, as `version.Info`.

The API we serve is Kubernetes `KUBERNETES_VERSION`; `gitVersion` appends our own
release as semver build metadata (like k3s's `v1.32.0+k3s1`), so clients that compare
versions see 1.32. `goVersion` and `compiler` carry the Python runtime instead.
"""

from __future__ import annotations

import platform
import sys

import orjson
from aiohttp import web

from kybernetes import __version__

KUBERNETES_MAJOR = "1"
KUBERNETES_MINOR = "32"
KUBERNETES_VERSION = f"v{KUBERNETES_MAJOR}.{KUBERNETES_MINOR}.0"

_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le"}


def version_info() -> dict[str, str]:
    """`k8s.io/apimachinery/pkg/version.Info`, fields in Kubernetes' order."""
    machine = platform.machine()
    return {
        "major": KUBERNETES_MAJOR,
        "minor": KUBERNETES_MINOR,
        "gitVersion": f"{KUBERNETES_VERSION}+kyb{__version__}",
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": f"python{platform.python_version()}",
        "compiler": platform.python_implementation().lower(),
        "platform": f"{sys.platform}/{_GO_ARCH.get(machine, machine)}",
    }


async def handle_version(request: web.Request) -> web.Response:
    return web.Response(body=orjson.dumps(version_info()), content_type="application/json")


def add_version_route(app: web.Application) -> None:
    # The official Python client asks for "/version/"; Kubernetes answers both.
    app.router.add_get("/version", handle_version)
    app.router.add_get("/version/", handle_version)
