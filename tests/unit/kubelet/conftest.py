"""The client tests' in-process API server fixtures (`server`, `client`, `namespace`)."""

from tests.unit.client.conftest import client, namespace, pki, serve, server

__all__ = ["client", "namespace", "pki", "serve", "server"]
