"""The Job controller: `JobController(client, factory, recorder, clock=..., workers=5)`
runs batch/v1 Jobs' pods to completion (see `controller` and `sync`)."""

from __future__ import annotations

from .controller import JobController

__all__ = ["JobController"]
