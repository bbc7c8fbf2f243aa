"""The garbage collector: deletes dependents whose owners are gone and carries out
the Foreground and Orphan deletion propagation policies (see `controller`)."""

from __future__ import annotations

from .catalog import Catalog
from .controller import FOREGROUND, ORPHAN, GarbageCollector

__all__ = ["FOREGROUND", "ORPHAN", "Catalog", "GarbageCollector"]
