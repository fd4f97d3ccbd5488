"""Object storage with one global resourceVersion counter, a bounded event history and watchers.

Every write takes the next revision of a single counter, as etcd does, so resourceVersions grow
across all kinds. Each change is also appended to a history of `Change` records that remembers
the previous state. The history serves three purposes: watches that start at an older
resourceVersion replay it, exact-resourceVersion lists roll the current state back through it, and
selector transitions (an object entering or leaving a selected watch) compare both states.
`compact()` drops the history, after which any older resourceVersion is "too old" (410).

All methods are synchronous and run on the event loop thread, so a watcher registered in the same
step as a history read can neither miss nor duplicate a change.
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

# The first revision handed out. A fresh real cluster is also past revision 1 when tests start, and
# starting higher makes small resourceVersions in tests ("5") behave as "too old", as they do there.
FIRST_REVISION = 100
DEFAULT_HISTORY_LIMIT = 20000


@attrs.frozen
class Change:
    """One stored change: `type` is ADDED, MODIFIED or DELETED; `old` is None for ADDED."""

    revision: int
    storage_key: str
    type: str
    obj: dict[str, Any]
    old: dict[str, Any] | None


class Watcher:
    """A queue of changes for one open watch stream; `None` in the queue ends the stream."""

    def __init__(self, storage_key: str) -> None:
        self.storage_key = storage_key
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue()

    def close(self) -> None:
        self.queue.put_nowait(None)


class Storage:
    def __init__(self, *, history_limit: int = DEFAULT_HISTORY_LIMIT) -> None:
        self.revision = FIRST_REVISION
        # storage_key -> {(namespace, name): object}; namespace is "" for cluster-scoped kinds.
        self.buckets: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self.history: deque[Change] = deque(maxlen=history_limit)
        # The oldest revision from which the history can still replay every later change.
        self.oldest_revision = FIRST_REVISION
        self.watchers: set[Watcher] = set()
        self.listeners: list[Callable[[Change], None]] = []

    def next_revision(self) -> int:
        self.revision += 1
        return self.revision

    def get(self, storage_key: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.buckets.get(storage_key, {}).get((namespace, name))

    def items(self, storage_key: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Return the objects of a bucket, ordered by namespace then name (etcd key order)."""
        bucket = self.buckets.get(storage_key, {})
        keys = sorted(key for key in bucket if namespace is None or key[0] == namespace)
        return [bucket[key] for key in keys]

    def put(self, storage_key: str, obj: dict[str, Any], change_type: str) -> dict[str, Any]:
        """Store `obj` under a new revision and notify watchers; return the stored object."""
        metadata = obj["metadata"]
        key = (metadata.get("namespace", ""), metadata["name"])
        bucket = self.buckets.setdefault(storage_key, {})
        old = bucket.get(key)
        revision = self.next_revision()
        metadata["resourceVersion"] = str(revision)
        bucket[key] = obj
        self._record(Change(revision, storage_key, change_type, obj, old))
        return obj

    def delete(self, storage_key: str, namespace: str, name: str) -> dict[str, Any]:
        """Remove an object; the DELETED change carries its last state with a new revision."""
        old = self.buckets[storage_key].pop((namespace, name))
        revision = self.next_revision()
        final = copy.deepcopy(old)
        final["metadata"]["resourceVersion"] = str(revision)
        self._record(Change(revision, storage_key, "DELETED", final, old))
        return final

    def _record(self, change: Change) -> None:
        if len(self.history) == self.history.maxlen:
            self.oldest_revision = self.history[0].revision
        self.history.append(change)
        for watcher in list(self.watchers):
            if watcher.storage_key == change.storage_key:
                watcher.queue.put_nowait(change)
        for listener in list(self.listeners):
            listener(change)

    def changes_since(self, storage_key: str, revision: int) -> list[Change]:
        return [c for c in self.history if c.revision > revision and c.storage_key == storage_key]

    def is_too_old(self, revision: int) -> bool:
        return revision < self.oldest_revision

    def snapshot(self, storage_key: str, revision: int) -> dict[tuple[str, str], dict[str, Any]]:
        """Return the bucket as it was at `revision`, by undoing later changes from the history."""
        state = dict(self.buckets.get(storage_key, {}))
        for change in reversed(self.history):
            if change.revision <= revision:
                break
            if change.storage_key != storage_key:
                continue
            key = (change.obj["metadata"].get("namespace", ""), change.obj["metadata"]["name"])
            if change.old is None:
                state.pop(key, None)
            else:
                state[key] = change.old
        return state

    def compact(self) -> None:
        """Forget the history, so every resourceVersion older than the current one is too old."""
        self.history.clear()
        self.oldest_revision = self.revision

    def add_watcher(self, storage_key: str) -> Watcher:
        watcher = Watcher(storage_key)
        self.watchers.add(watcher)
        return watcher

    def remove_watcher(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)

    def close_watchers(self) -> None:
        for watcher in list(self.watchers):
            watcher.close()
