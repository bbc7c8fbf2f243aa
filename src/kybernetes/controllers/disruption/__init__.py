"""The disruption controller: `DisruptionController(client, factory, clock=...)`
keeps PodDisruptionBudgets' status; `status` holds its arithmetic."""

from __future__ import annotations

from .controller import DisruptionController

__all__ = ["DisruptionController"]
