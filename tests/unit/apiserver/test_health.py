"""/livez, /readyz, /healthz: registered checks, verbose output, sub-paths, exclusion."""

from __future__ import annotations

import logging

import pytest
from aiohttp import web

from kybernetes.apiserver import HEALTH_KEY, HealthChecks

from .conftest import TLS, Fetch, Start


class Switch:
    """A check that fails until turned on."""

    def __init__(self) -> None:
        self.on = False

    async def __call__(self) -> None:
        if not self.on:
            raise RuntimeError("store not reachable")


async def test_readyz_waits_for_every_readiness_check(
    start: Start, tls: TLS, fetch: Fetch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kybernetes.apiserver.health")
    store, informers = Switch(), Switch()

    def setup(app: web.Application) -> None:
        app[HEALTH_KEY].add_readiness_check("store", store)
        app[HEALTH_KEY].add_readiness_check("informer-sync", informers)

    async with start(setup=setup) as server:
        reply = await fetch(server.url + "/readyz", tls())
        assert reply.status == 500
        assert reply.text == (
            "[+]ping ok\n"
            "[-]store failed: reason withheld\n"
            "[-]informer-sync failed: reason withheld\n"
            "readyz check failed\n"
        )
        assert "store not reachable" in caplog.text
        assert (await fetch(server.url + "/livez", tls())).text == "ok"

        store.on = True
        reply = await fetch(server.url + "/readyz", tls())
        assert reply.status == 500
        assert "[+]store ok\n[-]informer-sync failed" in reply.text

        informers.on = True
        reply = await fetch(server.url + "/readyz", tls())
        assert (reply.status, reply.text) == (200, "ok")
        assert reply.headers["Content-Type"].startswith("text/plain")

        reply = await fetch(server.url + "/readyz?verbose", tls())
        assert reply.text == ("[+]ping ok\n[+]store ok\n[+]informer-sync ok\nreadyz check passed\n")


async def test_individual_checks_and_exclusion(start: Start, tls: TLS, fetch: Fetch) -> None:
    store = Switch()

    def setup(app: web.Application) -> None:
        app[HEALTH_KEY].add_readiness_check("store", store)

    async with start(setup=setup) as server:
        reply = await fetch(server.url + "/readyz/store", tls())
        assert (reply.status, reply.text) == (500, "internal server error: store not reachable\n")
        assert (await fetch(server.url + "/readyz/ping", tls())).text == "ok"
        assert (await fetch(server.url + "/livez/store", tls())).status == 404
        assert (await fetch(server.url + "/readyz/nope", tls())).status == 404

        reply = await fetch(server.url + "/readyz?exclude=store&exclude=nope&verbose", tls())
        assert (reply.status, reply.text) == (
            200,
            "[+]ping ok\n[+]store excluded: ok\n"
            'warn: some health checks cannot be excluded: no matches for "nope"\n'
            "readyz check passed\n",
        )
        reply = await fetch(server.url + "/healthz", tls())
        assert reply.status == 500
        assert reply.text.endswith("healthz check failed\n")


def test_check_names_are_unique_and_valid() -> None:
    checks = HealthChecks()

    async def ok() -> None:
        return None

    checks.add_liveness_check("etcd", ok)
    with pytest.raises(ValueError, match="already registered"):
        checks.add_readiness_check("etcd", ok)
    with pytest.raises(ValueError, match="already registered"):
        checks.add_readiness_check("ping", ok)
    with pytest.raises(ValueError, match="invalid"):
        checks.add_readiness_check("a/b", ok)
    assert list(checks.checks("livez")) == ["ping", "etcd"]
