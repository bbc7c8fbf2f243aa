"""The StatefulSet controller: `StatefulSetController(client, factory, recorder,
clock=..., workers=5)` keeps ordered pods `NAME-0..N-1` with stable identities (see
`controller`, `update`, `identity`)."""

from __future__ import annotations

from .controller import StatefulSetController

__all__ = ["StatefulSetController"]
