"""ControllerRevision history shared by the DaemonSet and StatefulSet controllers
(see `revisions`)."""

from __future__ import annotations

from .revisions import (
    CONTROLLER_REVISION_HASH,
    HashCollision,
    History,
    new_revision,
    revision_hash,
    revision_patch,
    template_of,
)

__all__ = [
    "CONTROLLER_REVISION_HASH",
    "HashCollision",
    "History",
    "new_revision",
    "revision_hash",
    "revision_patch",
    "template_of",
]
