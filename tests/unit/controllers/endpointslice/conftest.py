from tests.unit.client.conftest import client, namespace, pki, serve, server

__all__ = ["client", "namespace", "pki", "serve", "server"]
