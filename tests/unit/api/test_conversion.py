"""Conversion between served and stored versions (events.k8s.io/v1 Events)."""

from __future__ import annotations

from kybernetes.api.conversion import converter_for

EVENTS = ("events.k8s.io", "v1", "Event")
CORE = ("", "v1", "Event")


def test_same_version_needs_no_converter() -> None:
    assert converter_for(CORE, CORE) is None


def test_events_round_trip() -> None:
    converter = converter_for(EVENTS, CORE)
    assert converter is not None
    served = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e"},
        "regarding": {"kind": "Pod", "name": "p"},
        "note": "n",
        "reason": "R",
        "reportingController": "c",
        "deprecatedCount": 3,
    }
    stored = converter.to_storage(served)
    assert stored["apiVersion"] == "v1"
    assert stored["involvedObject"] == {"kind": "Pod", "name": "p"}
    assert stored["message"] == "n"
    assert stored["reportingComponent"] == "c"
    assert stored["count"] == 3
    assert "regarding" not in stored and "note" not in stored
    assert converter.from_storage(stored) == served
