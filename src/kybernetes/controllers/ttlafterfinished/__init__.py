"""The TTL-after-finished controller: `TTLAfterFinishedController(client, factory,
clock=..., workers=5)` deletes finished Jobs `ttlSecondsAfterFinished` after they
finish (see `controller`)."""

from __future__ import annotations

from .controller import TTLAfterFinishedController

__all__ = ["TTLAfterFinishedController"]
