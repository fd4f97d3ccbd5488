"""EventRecorder against the API server double: core v1 Events, aggregation, failures."""

from __future__ import annotations

import logging

from litellm_operator.runtime.events import MAX_MESSAGE_BYTES, EventRecorder, truncate_message
from litellm_operator.runtime.kube import CORE_EVENTS
from litellm_operator.testing.clock import FakeClock
from litellm_operator.testing.cluster import Cluster
from tests.integration.runtime.helpers import TEAMS, team_body


async def list_events(cluster: Cluster) -> list[dict]:
    listed = await cluster.client.list(CORE_EVENTS, cluster.namespace)
    return sorted(listed["items"], key=lambda event: event["message"])


async def test_event_fields(cluster: Cluster) -> None:
    team = await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    recorder = EventRecorder(cluster.client, "team-controller", clock=FakeClock())

    recorder.event(team, "Normal", "Created", "team created in LiteLLM")
    await recorder.flush()
    await recorder.close()

    [event] = await list_events(cluster)
    assert event["involvedObject"]["kind"] == "Team"
    assert event["involvedObject"]["name"] == "t"
    assert event["involvedObject"]["uid"] == team["metadata"]["uid"]
    assert event["involvedObject"]["namespace"] == cluster.namespace
    assert event["reason"] == "Created"
    assert event["type"] == "Normal"
    assert event["source"]["component"] == "team-controller"
    assert event["count"] == 1
    assert event["firstTimestamp"] == "2025-01-01T00:00:00Z"
    assert event["lastTimestamp"] == "2025-01-01T00:00:00Z"


async def test_repeats_aggregated(cluster: Cluster) -> None:
    team = await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    clock = FakeClock()
    recorder = EventRecorder(cluster.client, "team-controller", clock=clock)

    recorder.event(team, "Warning", "SyncFailed", "LiteLLM unreachable")
    await recorder.flush()
    await clock.advance(60)
    recorder.event(team, "Warning", "SyncFailed", "LiteLLM unreachable")
    recorder.event(team, "Warning", "SyncFailed", "LiteLLM unreachable")
    recorder.event(team, "Warning", "SyncFailed", "other message")
    await recorder.flush()
    await recorder.close()

    events = await list_events(cluster)
    assert [event["message"] for event in events] == ["LiteLLM unreachable", "other message"]
    assert events[0]["count"] == 3
    assert events[0]["firstTimestamp"] == "2025-01-01T00:00:00Z"
    assert events[0]["lastTimestamp"] == "2025-01-01T00:01:00Z"
    assert events[1]["count"] == 1


async def test_same_instant_events_kept(cluster: Cluster) -> None:
    team = await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    recorder = EventRecorder(cluster.client, "team-controller", clock=FakeClock())

    recorder.event(team, "Normal", "Created", "first")
    recorder.event(team, "Normal", "Updated", "second")
    await recorder.flush()
    await recorder.close()

    events = await list_events(cluster)
    assert [event["message"] for event in events] == ["first", "second"]
    assert events[0]["metadata"]["name"] != events[1]["metadata"]["name"]


async def test_long_message_truncated(cluster: Cluster) -> None:
    team = await cluster.client.create(TEAMS, cluster.namespace, team_body("t"))
    recorder = EventRecorder(cluster.client, "team-controller")

    recorder.event(team, "Warning", "Invalid", "é" * 1000)
    await recorder.flush()
    await recorder.close()

    [event] = await list_events(cluster)
    assert len(event["message"].encode()) <= MAX_MESSAGE_BYTES
    assert event["message"] == "é" * (MAX_MESSAGE_BYTES // 2)


async def test_write_failure_logged(cluster: Cluster, caplog) -> None:
    team = team_body("ghost")
    team["metadata"].update(namespace="namespace-that-does-not-exist", uid="u1")
    recorder = EventRecorder(cluster.client, "team-controller")

    with caplog.at_level(logging.WARNING, logger="litellm_operator.runtime.events"):
        recorder.event(team, "Normal", "Created", "never written")
        await recorder.flush()
    await recorder.close()

    [record] = [record for record in caplog.records if record.getMessage() == "writing event failed"]
    assert record.log_fields["reason"] == "Created"
    assert record.log_fields["name"] == "ghost"


def test_truncate_keeps_short_messages() -> None:
    assert truncate_message("short") == "short"
