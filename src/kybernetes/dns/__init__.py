"""Cluster DNS: serves `cluster.local` (Services, headless endpoints, pods) from the API."""
