"""Watch streams: chunked JSON lines of ADDED, MODIFIED, DELETED, BOOKMARK and ERROR events.

Without a resourceVersion, with "0" or with sendInitialEvents, a watch first sends a synthetic
ADDED for every matching object. With a numeric RV it replays the stored history after that RV.
An RV older than the history gives one ERROR event (410 Expired) inside a 200 stream.
Selectors are applied to both states of a change, so an object that starts matching arrives as
ADDED and one that stops matching as DELETED.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .errors import StatusError
from .handlers import ResourceApi, _parse_int, _parse_revision
from .requests import ApiRequest
from .selectors import fields_match, labels_match, parse_field_selector, parse_label_selector
from .storage import Change

logger = logging.getLogger(__name__)

INITIAL_EVENTS_END_ANNOTATION = "k8s.io/initial-events-end"


def _encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


def translate_change(change: Change, matches: Callable[[dict[str, Any]], bool]) -> tuple[str, dict[str, Any]] | None:
    """Map a stored change to the event a selected watch receives, or None when it receives none."""
    if change.type == "ADDED":
        return ("ADDED", change.obj) if matches(change.obj) else None
    if change.type == "DELETED":
        return ("DELETED", change.obj) if matches(change.obj) else None
    now_matching = matches(change.obj)
    was_matching = change.old is not None and matches(change.old)
    if now_matching and was_matching:
        return ("MODIFIED", change.obj)
    if now_matching:
        return ("ADDED", change.obj)
    if was_matching:
        return ("DELETED", change.obj)
    return None


class WatchSettings:
    """Timing of bookmarks: every `bookmark_interval` seconds, and `bookmark_lead` seconds before a
    timeoutSeconds deadline (the real watch cache sends one about 2 s before it)."""

    def __init__(self, *, bookmark_interval: float = 60.0, bookmark_lead: float = 2.0) -> None:
        self.bookmark_interval = bookmark_interval
        self.bookmark_lead = bookmark_lead


async def serve_watch(
    http_request: web.Request,
    request: ApiRequest,
    api: ResourceApi,
    settings: WatchSettings,
    open_streams: set[web.StreamResponse],
) -> web.StreamResponse:
    rt = request.rt
    query = request.query
    timeout = _parse_int(query["timeoutSeconds"]) if "timeoutSeconds" in query else None
    send_initial = query.get("sendInitialEvents") in ("true", "1")
    if send_initial and query.get("resourceVersionMatch") != "NotOlderThan":
        message = "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
        raise StatusError(
            422,
            "Invalid",
            f'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: {message}',
            {"group": "meta.k8s.io", "kind": "ListOptions",
             "causes": [{"reason": "FieldValueForbidden", "message": f"Forbidden: {message}", "field": "resourceVersionMatch"}]},
        )
    label_requirements = parse_label_selector(query.get("labelSelector", ""))
    field_requirements = parse_field_selector(query.get("fieldSelector", ""), rt.storage_key)
    resource_version = query.get("resourceVersion", "")
    start_revision = _parse_revision(resource_version) if resource_version not in ("", "0") else None
    bookmarks = query.get("allowWatchBookmarks") in ("true", "1")

    def matches(obj: dict[str, Any]) -> bool:
        if rt.namespaced and request.namespace is not None and obj["metadata"].get("namespace") != request.namespace:
            return False
        return labels_match(label_requirements, obj) and fields_match(field_requirements, obj)

    storage = api.storage
    # Register before reading history or state: both happen in this synchronous step, so no change
    # can fall between them.
    watcher = storage.add_watcher(rt.storage_key)
    initial: list[dict[str, Any]] = []
    too_old = start_revision is not None and not send_initial and storage.is_too_old(start_revision)
    if too_old:
        initial.append({
            "type": "ERROR",
            "object": {
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": f"too old resource version: {start_revision} ({storage.oldest_revision})",
                "reason": "Expired", "code": 410,
            },
        })
    elif start_revision is None or send_initial:
        for obj in storage.items(rt.storage_key, request.namespace if rt.namespaced else None):
            if matches(obj):
                initial.append({"type": "ADDED", "object": api.external(rt, obj)})
        if send_initial and bookmarks:
            initial.append(_bookmark(rt.api_version, rt.kind, storage.revision, initial_end=True))
    else:
        for change in storage.changes_since(rt.storage_key, start_revision):
            translated = translate_change(change, matches)
            if translated:
                initial.append({"type": translated[0], "object": api.external(rt, translated[1])})
    last_revision = storage.revision if start_revision is None else max(start_revision, storage.revision)

    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json", "Cache-Control": "no-cache, private"})
    response.enable_chunked_encoding()
    open_streams.add(response)
    loop = asyncio.get_running_loop()
    try:
        await response.prepare(http_request)
        for event in initial:
            await response.write(_encode(event))
        if too_old:
            await response.write_eof()
            return response
        deadline = loop.time() + timeout if timeout else None
        next_bookmark = loop.time() + settings.bookmark_interval
        final_bookmark = deadline - min(settings.bookmark_lead, timeout / 2) if deadline and timeout else None
        while True:
            now = loop.time()
            wake_times = [t for t in (deadline, next_bookmark if bookmarks else None,
                                      final_bookmark if bookmarks else None) if t is not None]
            wait = max(0.0, min(wake_times) - now) if wake_times else None
            try:
                change = await asyncio.wait_for(watcher.queue.get(), wait)
            except TimeoutError:
                now = loop.time()
                if deadline is not None and now >= deadline:
                    break
                if bookmarks and (now >= next_bookmark or (final_bookmark is not None and now >= final_bookmark)):
                    await response.write(_encode(_bookmark(rt.api_version, rt.kind, storage.revision)))
                    next_bookmark = now + settings.bookmark_interval
                    if final_bookmark is not None and now >= final_bookmark:
                        final_bookmark = None
                continue
            if change is None:
                break
            if change.revision <= last_revision and start_revision is not None and change.revision <= start_revision:
                continue
            translated = translate_change(change, matches)
            if translated:
                await response.write(_encode({"type": translated[0], "object": api.external(rt, translated[1])}))
        await response.write_eof()
        return response
    except ConnectionResetError:
        logger.debug("watch stream closed by the client resource=%s namespace=%s", rt.plural, request.namespace)
        return response
    finally:
        storage.remove_watcher(watcher)
        open_streams.discard(response)


def _bookmark(api_version: str, kind: str, revision: int, *, initial_end: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_end:
        metadata = {"annotations": {INITIAL_EVENTS_END_ANNOTATION: "true"}, "resourceVersion": str(revision)}
    return {"type": "BOOKMARK", "object": {"apiVersion": api_version, "kind": kind, "metadata": metadata}}
