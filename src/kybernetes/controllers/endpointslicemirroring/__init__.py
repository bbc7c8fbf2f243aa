"""The EndpointSlice mirroring controller: `EndpointSliceMirroringController(client,
factory, clock=...)` mirrors the Endpoints of selector-less Services into
EndpointSlices."""

from __future__ import annotations

from .controller import CONTROLLER_NAME, EndpointSliceMirroringController

__all__ = ["CONTROLLER_NAME", "EndpointSliceMirroringController"]
