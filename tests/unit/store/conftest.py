"""Fixtures that run the store conformance suite against every backend.

`store` is parametrized over the backends: a fresh SQLite file per test, and one real
etcd member shared by the session (each test works under its own `prefix`, and asserts
only on revisions relative to its own writes, since etcd's revision is global).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kybernetes.store import Store, open_store
from tests.support.etcd import EtcdCluster, etcd_available


@pytest.fixture(scope="session")
def etcd_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    if not etcd_available():
        pytest.skip("etcd is not installed (Debian package etcd-server)")
    with EtcdCluster(size=1, base_dir=tmp_path_factory.mktemp("etcd")) as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "etcd"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        endpoint = f"sqlite://{tmp_path / 'state.db'}"
    else:
        endpoint = request.getfixturevalue("etcd_cluster").endpoint_url
    opened = await open_store(endpoint)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses."""
    return f"/registry/test-{uuid.uuid4().hex[:12]}/"
