"""Serving the API over HTTPS.

`APIServer(app, config)` is an async context manager: entering binds
`config.bind_address:config.port` and serves `app` over TLS; leaving stops accepting,
lets in-flight requests finish for up to `config.shutdown_timeout` seconds, cancels
the rest and closes every connection.

Invariants:
- HTTPS only, TLS 1.2 or newer, HTTP/1.1 (announced by ALPN), the serving certificate
  from the cluster PKI.
- A request whose client goes away is cancelled (aiohttp's handler cancellation),
  so an abandoned watch unregisters at once instead of at its next write.
- Client certificates are optional; one that is presented must chain to the cluster
  CA or the handshake fails (Go's VerifyClientCertIfGiven), so x509 authentication
  only ever sees certificates the CA signed.
"""

from __future__ import annotations

import ssl
from types import TracebackType

from aiohttp import web

from .app import APIServerConfig
from .pki import PKI


def server_ssl_context(pki: PKI) -> ssl.SSLContext:
    """The TLS context: our serving certificate, client certificates verified if sent."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(pki.serving.cert_path, pki.serving.key_path)
    context.load_verify_locations(cafile=pki.ca.cert_path)
    context.verify_mode = ssl.CERT_OPTIONAL
    context.set_alpn_protocols(["http/1.1"])
    return context


class APIServer:
    """Serves an application built by `create_app` while the context is entered."""

    def __init__(self, app: web.Application, config: APIServerConfig) -> None:
        self._app = app
        self._config = config
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def port(self) -> int:
        """The bound port (the one chosen when `config.port` was 0)."""
        if self._runner is None:
            raise RuntimeError("the API server is not serving")
        return self._port

    @property
    def url(self) -> str:
        """The URL a local client reaches the server at (loopback for a wildcard bind)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(
            self._config.bind_address, self._config.bind_address
        )
        if ":" in host:
            host = f"[{host}]"
        return f"https://{host}:{self.port}"

    async def __aenter__(self) -> APIServer:
        context = server_ssl_context(PKI.at(self._config.pki_dir))
        runner = web.AppRunner(
            self._app, shutdown_timeout=self._config.shutdown_timeout, handler_cancellation=True
        )
        await runner.setup()
        try:
            site = web.TCPSite(
                runner, self._config.bind_address, self._config.port, ssl_context=context
            )
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
