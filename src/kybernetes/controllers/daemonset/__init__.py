"""The DaemonSet controller: `DaemonSetController(client, factory, recorder,
clock=..., workers=2)` keeps one daemon pod on every eligible node (see `controller`,
`nodes`, `plan`)."""

from __future__ import annotations

from .controller import DaemonSetController

__all__ = ["DaemonSetController"]
