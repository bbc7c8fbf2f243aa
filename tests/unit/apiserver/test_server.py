"""A real server over TLS: authentication, authorization, Status errors, /version."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from kybernetes.apiserver import (
    PKI,
    USER_KEY,
    Decision,
    IssuedCertificate,
    RequestInfo,
    UserInfo,
    status,
)
from kybernetes.apiserver.pki import CertificateAuthority
from kybernetes.apiserver.version import version_info

from .conftest import TLS, TOKEN, Fetch, Start

UNAUTHORIZED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "Unauthorized",
    "reason": "Unauthorized",
    "code": 401,
}


async def whoami(request: web.Request) -> web.Response:
    user = request[USER_KEY]
    return web.json_response({"name": user.name, "uid": user.uid, "groups": list(user.groups)})


async def fail_with_status(request: web.Request) -> web.Response:
    raise status.not_found("pods", "x")


async def crash(request: web.Request) -> web.Response:
    raise RuntimeError("kaboom")


async def echo(request: web.Request) -> web.Response:
    return web.Response(body=await request.read())


ROUTES = [
    web.get("/whoami", whoami),
    web.get("/api/v1/namespaces/default/pods/x", fail_with_status),
    web.get("/crash", crash),
    web.post("/echo", echo),
]


async def test_no_credentials_is_401_status(start: Start, tls: TLS, fetch: Fetch) -> None:
    async with start(routes=ROUTES) as server:
        for path in ("/whoami", "/api/v1/pods", "/healthzz", "/"):
            reply = await fetch(server.url + path, tls())
            assert reply.status == 401
            assert reply.headers["Content-Type"] == "application/json"
            assert reply.json() == UNAUTHORIZED


async def test_anonymous_may_read_public_paths(start: Start, tls: TLS, fetch: Fetch) -> None:
    async with start() as server:
        for path in ("/healthz", "/livez", "/readyz", "/readyz/ping", "/version"):
            assert (await fetch(server.url + path, tls())).status == 200, path


async def test_admin_client_certificate(
    start: Start, tls: TLS, fetch: Fetch, admin_cert: IssuedCertificate
) -> None:
    async with start(routes=ROUTES) as server:
        reply = await fetch(server.url + "/whoami", tls(admin_cert))
        assert reply.status == 200
        assert reply.json() == {
            "name": "system:admin",
            "uid": "",
            "groups": ["system:masters", "system:authenticated"],
        }


async def test_issued_client_certificate(start: Start, tls: TLS, fetch: Fetch, pki: PKI) -> None:
    cert = pki.certificate_authority().issue_client("system:node:n1", ["system:nodes"])
    async with start(routes=ROUTES) as server:
        reply = await fetch(server.url + "/whoami", tls(cert))
        assert reply.json()["groups"] == ["system:nodes", "system:authenticated"]
        assert reply.json()["name"] == "system:node:n1"


async def test_certificate_of_another_ca_fails_the_handshake(
    start: Start, tls: TLS, fetch: Fetch
) -> None:
    stranger = CertificateAuthority.generate(datetime.now(UTC)).issue_client("mallory", [])
    async with start(routes=ROUTES) as server:
        with pytest.raises(aiohttp.ClientError):
            await fetch(server.url + "/whoami", tls(stranger))


async def test_expired_certificate_fails_the_handshake(
    start: Start, tls: TLS, fetch: Fetch, pki: PKI
) -> None:
    old = datetime.now(UTC) - timedelta(days=400)
    expired = pki.certificate_authority().issue_client("old", [], now=old)
    async with start(routes=ROUTES) as server:
        with pytest.raises(aiohttp.ClientError):
            await fetch(server.url + "/whoami", tls(expired))


async def test_token_from_token_file(start: Start, tls: TLS, fetch: Fetch) -> None:
    async with start(routes=ROUTES) as server:
        reply = await fetch(
            server.url + "/whoami", tls(), headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert reply.status == 200
        assert reply.json() == {
            "name": "alice",
            "uid": "uid-1",
            "groups": ["devs", "ops", "system:authenticated"],
        }


@pytest.mark.parametrize("path", ["/whoami", "/readyz"])
async def test_bad_token_is_401_even_on_public_paths(
    start: Start, tls: TLS, fetch: Fetch, path: str
) -> None:
    async with start(routes=ROUTES) as server:
        reply = await fetch(server.url + path, tls(), headers={"Authorization": "Bearer nope"})
        assert reply.status == 401
        assert reply.json() == UNAUTHORIZED


async def test_other_authorization_schemes_are_not_credentials(
    start: Start, tls: TLS, fetch: Fetch
) -> None:
    async with start(routes=ROUTES) as server:
        headers = {"Authorization": "Basic YWxpY2U6cHc="}
        assert (await fetch(server.url + "/readyz", tls(), headers=headers)).status == 200
        assert (await fetch(server.url + "/whoami", tls(), headers=headers)).status == 401


async def test_plain_http_is_refused(start: Start) -> None:
    async with start() as server, aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            await session.get(f"http://127.0.0.1:{server.port}/version")


async def test_status_errors_and_crashes_become_status_bodies(
    start: Start,
    tls: TLS,
    fetch: Fetch,
    admin_cert: IssuedCertificate,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with start(routes=ROUTES) as server:
        admin = tls(admin_cert)
        reply = await fetch(server.url + "/api/v1/namespaces/default/pods/x", admin)
        assert (reply.status, reply.json()["message"]) == (404, 'pods "x" not found')

        reply = await fetch(server.url + "/crash", admin)
        assert reply.status == 500
        assert reply.json()["reason"] == "InternalError"
        assert reply.json()["message"] == "Internal error occurred: kaboom"
        assert "kaboom" in caplog.text

        reply = await fetch(server.url + "/no/such/path", admin)
        assert reply.status == 404
        assert reply.json()["message"] == "the server could not find the requested resource"
        assert reply.json()["details"] == {}

        reply = await fetch(server.url + "/version", admin, method="DELETE")
        assert (reply.status, reply.json()["reason"]) == (405, "MethodNotAllowed")

        too_large = io.BytesIO(b"x" * (4 << 20))
        reply = await fetch(server.url + "/echo", admin, method="POST", data=too_large)
        assert (reply.status, reply.json()["reason"]) == (413, "RequestEntityTooLarge")

        # The server is still serving after all of that.
        assert (await fetch(server.url + "/echo", admin, method="POST", data=b"hi")).body == b"hi"


class DenyAll:
    async def authorize(self, user: UserInfo, request: RequestInfo) -> tuple[Decision, str]:
        return Decision.NO_OPINION, ""


async def test_authorizer_denial_is_403_with_kubernetes_message(
    start: Start, tls: TLS, fetch: Fetch
) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with start(routes=ROUTES, authorizer=DenyAll()) as server:
        reply = await fetch(server.url + "/api/v1/namespaces/default/pods/x", tls(), headers=bearer)
        assert reply.status == 403
        assert reply.json() == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": 'pods "x" is forbidden: User "alice" cannot get resource "pods" '
            'in API group "" in the namespace "default"',
            "reason": "Forbidden",
            "details": {"name": "x", "kind": "pods"},
            "code": 403,
        }
        reply = await fetch(server.url + "/apis/apps/v1/deployments", tls(), headers=bearer)
        assert reply.json()["message"] == (
            'deployments.apps is forbidden: User "alice" cannot list resource "deployments" '
            'in API group "apps" at the cluster scope'
        )
        reply = await fetch(server.url + "/whoami", tls(), headers=bearer)
        assert reply.json()["message"] == 'forbidden: User "alice" cannot get path "/whoami"'


async def test_version(start: Start, tls: TLS, fetch: Fetch) -> None:
    async with start() as server:
        reply = await fetch(server.url + "/version", tls())
        info = reply.json()
        assert info == version_info()
        assert list(info) == [
            "major",
            "minor",
            "gitVersion",
            "gitCommit",
            "gitTreeState",
            "buildDate",
            "goVersion",
            "compiler",
            "platform",
        ]
        assert (info["major"], info["minor"]) == ("1", "32")
        assert info["gitVersion"].startswith("v1.32.0+kyb")
        assert info["platform"].startswith("linux/")


async def test_port_and_url(start: Start) -> None:
    async with start() as server:
        assert server.port > 0
        assert server.url == f"https://127.0.0.1:{server.port}"
    with pytest.raises(RuntimeError):
        _ = server.port
