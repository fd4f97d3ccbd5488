"""Helpers for the runtime integration tests: Team bodies, a recording handler, a running informer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs

from litellm_operator.runtime.informer import Informer
from litellm_operator.runtime.kube import Resource

TEAMS = Resource("auth.litellm.ai", "v1alpha1", "teams", "Team")
WAIT_TIMEOUT = 10.0


def team_body(name: str, alias: str | None = None) -> dict[str, Any]:
    return {
        "apiVersion": TEAMS.api_version,
        "kind": TEAMS.kind,
        "metadata": {"name": name},
        "spec": {"teamAlias": alias or name, "connectionRef": {"instanceRef": {"name": "litellm"}}},
    }


@attrs.define
class RecordedEvent:
    kind: str
    name: str
    old: dict[str, Any] | None
    new: dict[str, Any]


class RecordingHandler:
    """Event handler that records every call and lets a test await a condition on them."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []
        self._changed = asyncio.Condition()

    def on_add(self, obj: dict[str, Any]) -> None:
        self._record(RecordedEvent("add", obj["metadata"]["name"], None, obj))

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self._record(RecordedEvent("update", new["metadata"]["name"], old, new))

    def on_delete(self, obj: dict[str, Any]) -> None:
        self._record(RecordedEvent("delete", obj["metadata"]["name"], None, obj))

    def kinds(self, name: str) -> list[str]:
        return [event.kind for event in self.events if event.name == name]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(wait(), WAIT_TIMEOUT)

    def _record(self, event: RecordedEvent) -> None:
        self.events.append(event)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


@contextlib.asynccontextmanager
async def running(informer: Informer) -> AsyncIterator[Informer]:
    """Run an informer in a task, wait for its first sync, and cancel it on exit."""
    task = asyncio.create_task(informer.run())
    try:
        await asyncio.wait_for(informer.wait_for_sync(), WAIT_TIMEOUT)
        yield informer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
