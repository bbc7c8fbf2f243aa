"""Clients of the Kubernetes API: how every component other than the API server
reaches it. `kubeconfig`: the connection settings (`RestConfig`) and the files that
carry them."""

from __future__ import annotations

from .kubeconfig import KubeconfigError, RestConfig, load_kubeconfig, write_kubeconfig

__all__ = ["KubeconfigError", "RestConfig", "load_kubeconfig", "write_kubeconfig"]
