"""Parsing `--datastore-endpoint` values and opening the matching backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .interface import Store, StoreError


@dataclass(frozen=True)
class Endpoint:
    """A parsed datastore endpoint: `kind` is "sqlite" (with `path`) or "etcd" (with `hosts`)."""

    kind: str
    path: Path | None = None
    hosts: tuple[tuple[str, int], ...] = ()


def parse_endpoint(endpoint: str) -> Endpoint:
    """Parses `sqlite:///PATH` or `etcd://HOST:PORT[,HOST:PORT...]`; raises `StoreError`."""
    scheme, sep, rest = endpoint.partition("://")
    if not sep:
        raise StoreError(
            f"invalid datastore endpoint {endpoint!r}: "
            "expected sqlite:///PATH or etcd://HOST:PORT[,HOST:PORT...]"
        )
    if scheme == "sqlite":
        if not rest.strip("/"):
            raise StoreError(f"invalid datastore endpoint {endpoint!r}: no file path")
        return Endpoint("sqlite", path=Path(rest))
    if scheme in ("etcd", "http"):
        hosts = []
        for part in rest.rstrip("/").split(","):
            parsed = urlsplit("//" + part)
            try:
                port = parsed.port or 2379
            except ValueError:
                port = -1
            if not parsed.hostname or port <= 0:
                raise StoreError(f"invalid datastore endpoint {endpoint!r}: bad host {part!r}")
            hosts.append((parsed.hostname, port))
        return Endpoint("etcd", hosts=tuple(hosts))
    raise StoreError(
        f"unsupported datastore endpoint scheme {scheme!r} in {endpoint!r}: use sqlite or etcd"
    )


async def open_store(endpoint: str) -> Store:
    """Opens (and for SQLite, creates) the store behind `endpoint`.

    Raises `StoreError` naming the problem: a bad endpoint, a file that is not a
    SQLite database, an etcd cluster that cannot be reached.
    """
    parsed = parse_endpoint(endpoint)
    if parsed.kind == "sqlite":
        from .sqlite import SqliteStore

        assert parsed.path is not None
        return await SqliteStore.open(parsed.path)
    from .etcd import EtcdStore

    return await EtcdStore.open(parsed.hosts)
