"""The namespace controller: deletes a terminating namespace's content, then
finalizes the namespace so the API server removes it (see `controller`)."""

from __future__ import annotations

from .controller import FINALIZER, NamespaceController

__all__ = ["FINALIZER", "NamespaceController"]
