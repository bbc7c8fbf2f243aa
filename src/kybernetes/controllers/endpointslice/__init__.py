"""The EndpointSlice controller: `EndpointSliceController(client, factory, clock=...,
max_endpoints_per_slice=100)` keeps the IPv4 EndpointSlices of every selecting
Service; `reconcile` plans its writes."""

from __future__ import annotations

from .controller import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    EndpointSliceController,
)

__all__ = ["CONTROLLER_NAME", "MANAGED_BY_LABEL", "SERVICE_NAME_LABEL", "EndpointSliceController"]
