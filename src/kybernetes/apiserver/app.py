"""The API server's aiohttp application: configuration and the middleware chain.

`create_app(store, config)` returns an `aiohttp.web.Application` whose every request
passes, in order:

    status_middleware          every failure below becomes a Kubernetes `Status`
    request_info_middleware    RequestInfo (verb, group, resource, ...) → REQUEST_INFO_KEY
    authentication_middleware  UserInfo → USER_KEY, or 401
    authorization_middleware   the `Authorizer` allows, or 403
    the route's handler

with /healthz, /livez, /readyz (+ sub-paths) and /version already routed. Callers add
the API's routes and health checks (`app[HEALTH_KEY]`) before serving it with
`server.APIServer`; handlers reach the store as `request.app[STORE_KEY]`.

The cluster PKI must exist (`pki.ensure_pki`) before `create_app` runs: it reads the
CA certificate from `config.pki_dir`, and the token file if one is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from cryptography import x509

from kybernetes.store import Store

from .authn import (
    Authenticator,
    TokenFileAuthenticator,
    X509Authenticator,
    authentication_middleware,
)
from .authz import AlwaysAllow, Authorizer, authorization_middleware
from .health import add_health_routes
from .join import JoinTokenAuthenticator, add_join_routes
from .metrics import APIMetrics
from .pki import PKI
from .requestinfo import request_info_middleware
from .status import status_middleware
from .version import add_version_route

MAX_REQUEST_BYTES = 3 * 1024 * 1024
"""Kubernetes' limit on a request body (`MaxRequestBodyBytes`); larger is 413."""


@dataclass(frozen=True, slots=True)
class APIServerConfig:
    """How the API server listens and whom it trusts.

    `port` 0 picks a free port (`APIServer.port` tells which). `token_file` is a
    kube-apiserver static token file (token,user,uid,"groups"); None disables bearer
    tokens. `shutdown_timeout` bounds how long in-flight requests (watches) may run
    once shutdown begins.
    """

    pki_dir: Path
    bind_address: str = "0.0.0.0"
    port: int = 6443
    token_file: Path | None = None
    shutdown_timeout: float = 5.0
    join_secret: str | None = None
    """Serves `join.JOIN_PATH` for agents presenting this secret (None: no joining)."""


STORE_KEY = web.AppKey("store", Store)
CONFIG_KEY = web.AppKey("config", APIServerConfig)
METRICS_KEY = web.AppKey("metrics", APIMetrics)


def create_app(
    store: Store,
    config: APIServerConfig,
    *,
    authorizer: Authorizer | None = None,
    metrics: APIMetrics | None = None,
) -> web.Application:
    """The application with the secure middleware chain, health, version and metrics
    routes (metrics measure every request, outside the chain).

    `authorizer` defaults to `AlwaysAllow`. Raises OSError or ValueError if the CA
    certificate or the token file cannot be read.
    """
    metrics = metrics or APIMetrics()
    ca_cert = x509.load_pem_x509_certificate(PKI.at(config.pki_dir).ca.cert_pem())
    authenticators: list[Authenticator] = [X509Authenticator(ca_cert)]
    if config.token_file is not None:
        authenticators.append(TokenFileAuthenticator.from_file(config.token_file))
    if config.join_secret is not None:
        authenticators.append(JoinTokenAuthenticator(config.join_secret))
    app = web.Application(
        middlewares=[
            metrics.middleware(),
            status_middleware,
            request_info_middleware,
            authentication_middleware(authenticators),
            authorization_middleware(authorizer or AlwaysAllow()),
        ],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[STORE_KEY] = store
    app[CONFIG_KEY] = config
    app[METRICS_KEY] = metrics
    app.router.add_get("/metrics", metrics.handler)
    add_health_routes(app)
    add_version_route(app)
    if config.join_secret is not None:
        add_join_routes(app, PKI.at(config.pki_dir).certificate_authority())
    return app
