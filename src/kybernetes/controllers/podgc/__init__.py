"""The pod garbage collector: `PodGCController(client, factory, clock=...,
terminated_pod_gc_threshold=12500)` force-deletes surplus terminated pods, orphans of
deleted nodes and unscheduled terminating pods."""

from __future__ import annotations

from .controller import PodGCController

__all__ = ["PodGCController"]
