"""The API server: the only component that touches the store.

The foundation here is the secure HTTP layer: the cluster PKI (`pki`), the aiohttp
application with its middleware chain (`app`: Status errors → request info →
authentication → authorization → handler), health and version endpoints, and TLS
serving (`server`). Typical start-up:

    pki = ensure_pki(data_dir / "pki", hosts=[hostname, node_ip])
    config = APIServerConfig(pki_dir=pki.directory, port=6443, token_file=...)
    app = create_app(store, config)
    app[HEALTH_KEY].add_readiness_check("store", check_store)
    ...add the API's routes...
    async with APIServer(app, config) as server:
        ...  # serving at server.url until the block exits
"""

from __future__ import annotations

from .app import CONFIG_KEY, STORE_KEY, APIServerConfig, create_app
from .authn import USER_KEY, UserInfo
from .authz import AlwaysAllow, Authorizer, Decision
from .health import HEALTH_KEY, HealthCheck, HealthChecks
from .pki import PKI, CertificateAuthority, IssuedCertificate, ensure_pki
from .requestinfo import REQUEST_INFO_KEY, RequestInfo
from .server import APIServer
from .status import StatusCause, StatusError

__all__ = [
    "CONFIG_KEY",
    "HEALTH_KEY",
    "PKI",
    "REQUEST_INFO_KEY",
    "STORE_KEY",
    "USER_KEY",
    "APIServer",
    "APIServerConfig",
    "AlwaysAllow",
    "Authorizer",
    "CertificateAuthority",
    "Decision",
    "HealthCheck",
    "HealthChecks",
    "IssuedCertificate",
    "RequestInfo",
    "StatusCause",
    "StatusError",
    "UserInfo",
    "create_app",
    "ensure_pki",
]
