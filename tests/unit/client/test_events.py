"""`EventRecorder` against a real API server, on a fake clock: Events are created with
the reference, source and timestamps; repeats within the window patch count and
lastTimestamp; anything else makes a new Event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from kybernetes.client import APIClient, EventRecorder, FakeClock
from kybernetes.client.resource import CONFIGMAPS, EVENTS, NODES


@asynccontextmanager
async def recording(recorder: EventRecorder) -> AsyncIterator[EventRecorder]:
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(recorder.run())
        try:
            yield recorder
        finally:
            task.cancel()


async def events_in(client: APIClient, namespace: str) -> list[dict[str, Any]]:
    listed = await client.list(EVENTS, namespace)
    items: list[dict[str, Any]] = listed["items"]
    return sorted(items, key=lambda e: e["metadata"]["name"])


async def flush(recorder: EventRecorder) -> None:
    async with asyncio.timeout(10):
        await recorder.flush()


async def test_repeats_within_the_window_are_aggregated(client: APIClient, namespace: str) -> None:
    clock = FakeClock()
    target = await client.create(CONFIGMAPS, {"metadata": {"name": "cm"}}, namespace=namespace)
    recorder = EventRecorder(client, "tester", "host-1", clock=clock)
    async with recording(recorder):
        recorder.event(target, "Warning", "Broken", "it broke")
        await flush(recorder)
        [event] = await events_in(client, namespace)
        assert event["involvedObject"] == {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "namespace": namespace,
            "name": "cm",
            "uid": target["metadata"]["uid"],
            "resourceVersion": target["metadata"]["resourceVersion"],
        }
        assert (event["type"], event["reason"], event["message"]) == (
            "Warning",
            "Broken",
            "it broke",
        )
        assert event["source"] == {"component": "tester", "host": "host-1"}
        assert event["count"] == 1
        assert event["firstTimestamp"] == event["lastTimestamp"] == "2025-01-01T00:00:00Z"
        assert event["metadata"]["name"].startswith("cm.")

        clock.advance(10)
        recorder.event(target, "Warning", "Broken", "it broke")
        clock.advance(10)
        recorder.event(target, "Warning", "Broken", "it broke")
        await flush(recorder)
        [again] = await events_in(client, namespace)
        assert again["metadata"]["name"] == event["metadata"]["name"]
        assert again["count"] == 3
        assert again["firstTimestamp"] == "2025-01-01T00:00:00Z"
        assert again["lastTimestamp"] == "2025-01-01T00:00:20Z"

        recorder.event(target, "Warning", "Broken", "another message")
        recorder.event(target, "Normal", "Broken", "it broke")
        await flush(recorder)
        assert len(await events_in(client, namespace)) == 3

        clock.advance(601)  # past the window: a fresh Event
        recorder.event(target, "Warning", "Broken", "it broke")
        await flush(recorder)
        counts = sorted(e["count"] for e in await events_in(client, namespace))
        assert counts == [1, 1, 1, 3]


async def test_a_deleted_event_is_created_again_with_its_count(
    client: APIClient, namespace: str
) -> None:
    reference = {"kind": "Pod", "apiVersion": "v1", "namespace": namespace, "name": "ghost"}
    recorder = EventRecorder(client, "tester", clock=FakeClock())
    async with recording(recorder):
        recorder.event(reference, "Normal", "Seen", "boo")
        await flush(recorder)
        [event] = await events_in(client, namespace)
        assert event["source"] == {"component": "tester"}
        assert event["involvedObject"] == reference
        await client.delete(EVENTS, event["metadata"]["name"], namespace)
        recorder.event(reference, "Normal", "Seen", "boo")
        await flush(recorder)
        [recreated] = await events_in(client, namespace)
    assert recreated["count"] == 2
    assert recreated["metadata"]["name"] != event["metadata"]["name"]


async def test_events_of_cluster_scoped_objects_go_to_default(client: APIClient) -> None:
    node = await client.create(NODES, {"metadata": {"name": "evented-node"}})
    recorder = EventRecorder(client, "tester", clock=FakeClock())
    async with recording(recorder):
        recorder.event(node, "Normal", "Registered", "node registered")
        await flush(recorder)
    mine = [
        e
        for e in await events_in(client, "default")
        if e["involvedObject"].get("name") == "evented-node"
    ]
    assert [e["involvedObject"]["kind"] for e in mine] == ["Node"]


async def test_bad_types_raise_and_a_full_queue_drops(
    client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = EventRecorder(client, "tester", max_pending=1)
    with pytest.raises(ValueError, match="Normal or Warning"):
        recorder.event({"kind": "Pod", "name": "p"}, "Error", "R", "m")  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        recorder.event({"kind": "Pod", "name": "p", "namespace": "x"}, "Normal", "A", "m")
        recorder.event({"kind": "Pod", "name": "p", "namespace": "x"}, "Normal", "B", "m")
    assert "dropping Normal event 'B'" in caplog.text


async def test_the_spam_filter_caps_events_per_object(client: APIClient, namespace: str) -> None:
    clock = FakeClock()
    target = await client.create(CONFIGMAPS, {"metadata": {"name": "busy"}}, namespace=namespace)
    other = await client.create(CONFIGMAPS, {"metadata": {"name": "calm"}}, namespace=namespace)
    recorder = EventRecorder(client, "tester", clock=clock, spam_burst=3, spam_interval=300)
    async with recording(recorder):
        for i in range(5):
            recorder.event(target, "Normal", "Created", f"pod {i}")
        recorder.event(other, "Normal", "Created", "pod x")
        await flush(recorder)
        messages = sorted(e["message"] for e in await events_in(client, namespace))
        assert messages == ["pod 0", "pod 1", "pod 2", "pod x"]
        clock.advance(300)  # one token back
        recorder.event(target, "Normal", "Created", "pod 5")
        recorder.event(target, "Normal", "Created", "pod 6")
        await flush(recorder)
        assert len(await events_in(client, namespace)) == 5
