"""The Endpoints controller: `EndpointsController(client, factory, clock=...)` keeps a
v1 Endpoints object per selecting Service. `podutil` and `base` hold what the
EndpointSlice controller shares with it."""

from __future__ import annotations

from .controller import EndpointsController

__all__ = ["EndpointsController"]
