"""A component's /metrics and health endpoints."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, Counter

from kybernetes.client.endpoints import parse_address, serving_endpoints


async def test_metrics_and_health_are_served() -> None:
    registry = CollectorRegistry()
    Counter("kyb_test_things", "Things.", registry=registry).inc(3)
    healthy = [True]
    async with (
        serving_endpoints("127.0.0.1:0", registry, lambda: healthy[0]) as served,
        aiohttp.ClientSession() as session,
    ):
        base = f"http://127.0.0.1:{served.port}"
        async with session.get(f"{base}/metrics") as response:
            assert response.status == 200
            assert "kyb_test_things_total 3.0" in await response.text()
        async with session.get(f"{base}/healthz") as response:
            assert (response.status, await response.text()) == (200, "ok")
        healthy[0] = False
        async with session.get(f"{base}/readyz") as response:
            assert response.status == 503


def test_addresses_are_checked() -> None:
    assert parse_address("127.0.0.1:10259") == ("127.0.0.1", 10259)
    assert parse_address("[::1]:80") == ("::1", 80)
    assert parse_address(":9") == ("0.0.0.0", 9)
    for bad in ("nope", "host:", "host:99999", "host:x"):
        with pytest.raises(ValueError, match="invalid address"):
            parse_address(bad)
