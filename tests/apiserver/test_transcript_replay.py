"""Replay the recorded kube-apiserver transcripts against the double and compare the responses.

Every case of every transcript file is sent to a fresh double (namespaces team-a, team-b and
team-w; the Team CRD applied, except for the CRD file itself). Before a file's cases run, the
requests of all earlier files are replayed without checks, so the objects a case expects exist.
Each response must have the recorded status code and the recorded body *shape*: the same keys,
value types, `kind` and `reason`, the same causes (`reason` and `field`) and the same Status
message once numbers and UUIDs are masked. Volatile values (uid, resourceVersion, timestamps,
generated names) are translated or ignored, and watch streams must carry the same event types.

Translation of recorded values: resourceVersions, uids and continue tokens seen in recorded
responses are mapped to the double's values; an unseen resourceVersion maps to the double's
value for the closest lower recorded one. `timeoutSeconds` of watches is capped at 1 s so the
file runs in seconds (the bookmark before the deadline is moved to 0.5 s before it).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import pathlib
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import pytest

from litellm_operator.testing.apiserver import KubeApiServer

from .conftest import TRANSCRIPTS

FILES = sorted(TRANSCRIPTS.glob("*.json"))

# (file, case index) -> why the case is not compared.
EXCLUDED = {
    ("08-watch.json", 7): "the initial events list every Team of the recording's cluster, including objects "
    "written outside the recorded requests; covered by test_send_initial_events_ends_with_annotated_bookmark",
    ("08-watch.json", 12): "replays the recording's whole history since its first Team, including writes made "
    "outside the recorded requests; covered by test_watch_from_list_rv_sends_only_later_changes",
    ("13-metadata-errors.json", 5): "the double answers 406 with a JSON Status; the real server encodes it in protobuf",
}
# Cases whose body is not compared, only the status code.
STATUS_ONLY = {
    ("10-events.json", 3): "the message names an Event by its generated name",
    ("02-create.json", 15): "the message quotes the raw body, whose JSON spacing the recorder chose",
    ("02-create.json", 18): "the message quotes Go's JSON parser position text",
}
# Requests the recording made between cases without recording them, sent before the case.
UNRECORDED_STEPS = {
    # The Foreground-deleted "precond" was gone from team-w when the dry-run deletecollection ran.
    ("07-finalizers.json", 17): [
        {"method": "PATCH", "path": "/apis/auth.litellm.ai/v1alpha1/namespaces/team-w/teams/precond",
         "content_type": "application/merge-patch+json", "body": {"metadata": {"finalizers": None}}},
    ],
}
# Recorded bodies trimmed to a few entries: keys under these paths may be more in the double.
TRIMMED = {("12-discovery.json", 10): ".paths"}
_MASK = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+")


def _category(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def compare_shape(samples: list[Any], actual: Any, path: str, errors: list[str], trimmed: str | None = None) -> None:
    """Check `actual` against recorded samples of the same place (several for list elements)."""
    categories = {_category(sample) for sample in samples}
    if _category(actual) not in categories:
        errors.append(f"{path}: type {_category(actual)}, recorded {sorted(categories)}")
        return
    if isinstance(actual, dict):
        dict_samples = [s for s in samples if isinstance(s, dict)]
        union = set().union(*(s.keys() for s in dict_samples))
        required = set.intersection(*(set(s.keys()) for s in dict_samples))
        if path.endswith("fieldsV1"):
            return
        missing = required - actual.keys()
        extra = actual.keys() - union
        if missing:
            errors.append(f"{path}: missing keys {sorted(missing)}")
        if extra and path == trimmed:
            return
        if extra:
            errors.append(f"{path}: extra keys {sorted(extra)}")
        for key, value in actual.items():
            if key in union:
                compare_shape([s[key] for s in dict_samples if key in s], value, f"{path}.{key}", errors, trimmed)
        for key in ("kind", "reason", "status", "code"):
            recorded = {s.get(key) for s in dict_samples if isinstance(s.get(key), (str, int))}
            if len(dict_samples) == 1 and recorded and actual.get(key) not in recorded and path in ("", ".object"):
                errors.append(f"{path}.{key}: {actual.get(key)!r}, recorded {sorted(map(str, recorded))}")
    elif isinstance(actual, list):
        list_samples = [s for s in samples if isinstance(s, list)]
        elements = [item for sample in list_samples for item in sample]
        if not elements:
            if actual and not path.endswith("managedFields"):
                errors.append(f"{path}: {len(actual)} items, recorded none")
            return
        if not actual and all(list_samples):
            errors.append(f"{path}: empty, recorded {len(elements)} items")
        for index, item in enumerate(actual):
            compare_shape(elements, item, f"{path}[{index}]", errors)


def compare_status(recorded: Any, actual: Any, errors: list[str]) -> None:
    if not isinstance(recorded, dict) or recorded.get("kind") != "Status" or not isinstance(actual, dict):
        return
    recorded_message = _MASK.sub("#", recorded.get("message", ""))
    actual_message = _MASK.sub("#", actual.get("message", ""))
    if recorded.get("status") == "Failure" and recorded_message != actual_message:
        errors.append(f"message {actual.get('message')!r}, recorded {recorded.get('message')!r}")
    recorded_causes = [(c.get("reason"), c.get("field")) for c in (recorded.get("details") or {}).get("causes", [])]
    actual_causes = [(c.get("reason"), c.get("field")) for c in (actual.get("details") or {}).get("causes", [])]
    if sorted(set(recorded_causes)) != sorted(set(actual_causes)):
        errors.append(f"causes {actual_causes}, recorded {recorded_causes}")


class Translator:
    """Maps recorded resourceVersions, uids and continue tokens to the double's values."""

    def __init__(self, server: KubeApiServer) -> None:
        self.server = server
        self.revisions: dict[int, int] = {}
        self.uids: dict[str, str] = {}
        self.tokens: dict[str, str] = {}

    def learn(self, recorded: Any, actual: Any) -> None:
        if isinstance(recorded, dict) and isinstance(actual, dict):
            recorded_meta = recorded.get("metadata") if isinstance(recorded.get("metadata"), dict) else {}
            actual_meta = actual.get("metadata") if isinstance(actual.get("metadata"), dict) else {}
            for key, table in (("resourceVersion", None), ("uid", self.uids), ("continue", self.tokens)):
                old, new = recorded_meta.get(key), actual_meta.get(key)
                if isinstance(old, str) and isinstance(new, str) and old and new:
                    if key == "resourceVersion" and old.isdigit() and new.isdigit():
                        self.revisions[int(old)] = int(new)
                    elif table is not None:
                        table[old] = new
            for old_item, new_item in zip(recorded.get("items") or [], actual.get("items") or [], strict=False):
                self.learn(old_item, new_item)

    def revision(self, text: str) -> str:
        if not text.isdigit():
            return text
        value = int(text)
        if value in self.revisions:
            return str(self.revisions[value])
        known = sorted(self.revisions)
        position = bisect.bisect_right(known, value)
        if position == 0:
            return text
        if position == len(known) and value > known[-1] + 1000:
            return str(self.server.storage.revision + (value - known[-1]))
        return str(self.revisions[known[position - 1]])

    def path(self, path: str) -> str:
        parts = urlsplit(path)
        query = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key == "resourceVersion":
                value = self.revision(value)
            elif key == "continue":
                value = self.tokens.get(value, value)
            elif key == "timeoutSeconds" and value.isdigit():
                value = str(min(int(value), 1))
            query.append((key, value))
        return parts.path + ("?" + urlencode(query) if query else "")

    def body(self, body: Any) -> Any:
        if isinstance(body, dict):
            result = {}
            for key, value in body.items():
                if key == "resourceVersion" and isinstance(value, str):
                    result[key] = self.revision(value)
                elif key == "uid" and isinstance(value, str):
                    result[key] = self.uids.get(value, value)
                else:
                    result[key] = self.body(value)
            return result
        if isinstance(body, list):
            return [self.body(item) for item in body]
        return body


async def _send(session: aiohttp.ClientSession, server: KubeApiServer, translator: Translator, request: dict[str, Any],
                expected_status: int | None = None) -> tuple[int, Any, Any]:
    recorded_headers = request.get("headers")
    headers = {key: value for key, value in (recorded_headers or {}).items() if key.lower() != "authorization"}
    if recorded_headers is None or "Authorization" in recorded_headers:
        headers["Authorization"] = f"Bearer {server.token}" if expected_status != 401 else "Bearer not-the-token"
    headers["User-Agent"] = "transcript-recorder/1.0 (python aiohttp)"
    if request.get("content_type"):
        headers["Content-Type"] = request["content_type"]
    body = request.get("body")
    if isinstance(body, (dict, list)):
        data: Any = json.dumps(translator.body(body))
        headers.setdefault("Content-Type", "application/json")
    else:
        data = body
    async with session.request(request["method"], server.url + translator.path(request["path"]), data=data, headers=headers) as response:
        text = await response.text()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return response.status, parsed, response.headers


async def _run_watch(session: aiohttp.ClientSession, server: KubeApiServer, translator: Translator, case: dict[str, Any]) -> tuple[int, list[Any]]:
    request = case["request"]
    response_record = case["response"]
    expected = [entry["event"] for entry in response_record.get("stream", [])]
    headers = {"Authorization": f"Bearer {server.token}", "User-Agent": "transcript-recorder/1.0 (python aiohttp)"}
    response = await session.get(server.url + translator.path(request["path"]), headers=headers)
    events: list[Any] = []
    try:
        for mutation in case.get("requests_made_during_watch") or response_record.get("requests_made_during_watch") or []:
            _, body, _ = await _send(session, server, translator, mutation, mutation.get("status"))
            translator.learn({"metadata": {"resourceVersion": (mutation.get("result") or {}).get("resourceVersion")}}, body)
        ended_by_server = "server ended" in (response_record.get("stream_end") or {}).get("by", "")
        wait = 3.0 if ended_by_server or expected else 0.2
        try:
            while ended_by_server or len(events) < len(expected):
                line = await asyncio.wait_for(response.content.readline(), wait)
                if not line:
                    break
                events.append(json.loads(line))
        except TimeoutError:
            pass
    finally:
        response.close()
    return response.status, events


_ITEM_PATH = re.compile(r"^(/apis?/.+?/namespaces/[^/]+/[^/]+)/([^/?]+)")
_SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                  "deletionTimestamp", "deletionGracePeriodSeconds")


async def _seed(session: aiohttp.ClientSession, server: KubeApiServer, translator: Translator, collection: str,
                recorded: Any, name: str) -> None:
    """Create an object that the recording made outside the recorded requests, if it is missing."""
    headers = {"Authorization": f"Bearer {server.token}", "User-Agent": "transcript-seeder/1.0"}
    async with session.get(server.url + collection + "/" + name, headers=headers) as response:
        if response.status != 404:
            return
    if isinstance(recorded, dict) and recorded.get("kind") not in (None, "Status") and recorded.get("metadata", {}).get("name") == name:
        # The state before the request is unknown; seed the recorded spec and labels, not finalizers.
        body = {key: value for key, value in recorded.items() if key != "status"}
        body["metadata"] = {key: value for key, value in recorded["metadata"].items()
                            if key not in (*_SERVER_FIELDS, "finalizers", "annotations")}
    else:
        body = {"apiVersion": "auth.litellm.ai/v1alpha1", "kind": "Team", "metadata": {"name": name}, "spec": {"teamAlias": name}}
    if "/teams" in collection:
        body.setdefault("apiVersion", "auth.litellm.ai/v1alpha1")
        body.setdefault("kind", "Team")
    async with session.post(server.url + collection, data=json.dumps(body), headers=headers | {"Content-Type": "application/json"}) as response:
        created = await response.json()
    # Model the unrecorded write as happening just before the recorded response's revision.
    recorded_rv = (recorded or {}).get("metadata", {}).get("resourceVersion", "") if isinstance(recorded, dict) else ""
    if recorded_rv.isdigit() and created.get("metadata", {}).get("resourceVersion", "").isdigit():
        translator.revisions[int(recorded_rv) - 1] = int(created["metadata"]["resourceVersion"])


async def _seed_for(session: aiohttp.ClientSession, server: KubeApiServer, translator: Translator,
                    request: dict[str, Any], status: int | None, recorded_body: Any) -> None:
    """Seed the objects a request expects to exist: its target item, or the items of a recorded list."""
    path = urlsplit(request.get("path", "")).path
    match = _ITEM_PATH.match(path)
    is_apply = "apply-patch" in (request.get("content_type") or (request.get("headers") or {}).get("Content-Type", ""))
    seeded_status = status in (200, 201) or (status == 409 and request.get("method") in ("DELETE", "PUT"))
    if match and request.get("method") != "POST" and seeded_status and not is_apply:
        await _seed(session, server, translator, match.group(1), recorded_body, match.group(2))
    if isinstance(recorded_body, dict) and isinstance(recorded_body.get("items"), list) and "/teams" in path:
        for item in recorded_body["items"]:
            namespace = item.get("metadata", {}).get("namespace")
            if namespace and item.get("kind") == "Team" and request.get("method") in ("GET", "DELETE"):
                collection = f"/apis/auth.litellm.ai/v1alpha1/namespaces/{namespace}/teams"
                await _seed(session, server, translator, collection, item, item["metadata"]["name"])


async def _replay_file(path: pathlib.Path, server: KubeApiServer, translator: Translator, *, check: bool) -> list[str]:
    failures: list[str] = []
    connector = aiohttp.TCPConnector(ssl=server.client_ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        for index, case in enumerate(json.loads(path.read_text())):
            request, recorded = case.get("request") or {}, case.get("response") or {}
            if "status" not in recorded or "method" not in request or (path.name, index) in EXCLUDED:
                continue
            for step in UNRECORDED_STEPS.get((path.name, index), []):
                await _send(session, server, translator, step)
            mutations = case.get("requests_made_during_watch") or recorded.get("requests_made_during_watch") or []
            created_here = {urlsplit(m["path"]).path.rstrip("/") + "/" + ((m.get("body") or {}).get("metadata") or {}).get("name", "")
                            for m in mutations if m["method"] == "POST"}
            stream = recorded.get("stream") or []
            deleted = {((e.get("event") or {}).get("object") or {}).get("metadata", {}).get("name") for e in stream if e.get("type") == "DELETED"}
            for entry in stream:
                obj = (entry.get("event") or {}).get("object") or {}
                meta = obj.get("metadata") or {}
                collection = f"/apis/auth.litellm.ai/v1alpha1/namespaces/{meta.get('namespace')}/teams"
                if (entry.get("type") == "MODIFIED" and obj.get("kind") == "Team" and meta.get("name") not in deleted
                        and f"{collection}/{meta.get('name')}" not in created_here):
                    # Seed the spec without the recorded values, so the case's own patches still change it.
                    seed = dict(obj, spec={"teamAlias": (obj.get("spec") or {}).get("teamAlias", meta["name"])})
                    await _seed(session, server, translator, collection, seed, meta["name"])
            for mutation in mutations:
                if urlsplit(mutation["path"]).path.removesuffix("/status") not in created_here:
                    await _seed_for(session, server, translator, mutation, mutation.get("status"), None)
            if "stream" in recorded and recorded.get("status") == 200:
                if not check:
                    for mutation in case.get("requests_made_during_watch") or recorded.get("requests_made_during_watch") or []:
                        _, body, _ = await _send(session, server, translator, mutation, mutation.get("status"))
                        translator.learn({"metadata": {"resourceVersion": (mutation.get("result") or {}).get("resourceVersion")}}, body)
                    continue
                status, events = await _run_watch(session, server, translator, case)
                errors: list[str] = []
                expected = [entry["event"] for entry in recorded["stream"]]
                if [e.get("type") for e in events] != [e.get("type") for e in expected]:
                    errors.append(f"event types {[e.get('type') for e in events]}, recorded {[e.get('type') for e in expected]}")
                for number, (recorded_event, event) in enumerate(zip(expected, events, strict=False)):
                    compare_shape([recorded_event], event, f"event[{number}]", errors)
                if status != 200:
                    errors.append(f"status {status}, recorded 200")
            else:
                recorded_body = recorded.get("body")
                if recorded_body is None and recorded.get("stream"):
                    recorded_body = recorded["stream"][0]["event"]
                await _seed_for(session, server, translator, request, recorded["status"], recorded_body)
                status, body, _ = await _send(session, server, translator, request, recorded["status"])
                translator.learn(recorded_body, body)
                if not check:
                    continue
                errors = []
                if status != recorded["status"]:
                    errors.append(f"status {status}, recorded {recorded['status']}")
                if (path.name, index) not in STATUS_ONLY and recorded_body is not None:
                    compare_shape([recorded_body], body, "", errors, TRIMMED.get((path.name, index)))
                    compare_status(recorded_body, body, errors)
            if errors:
                failures.append(f"#{index} {case['case'][:70]}: " + "; ".join(errors[:4]))
    return failures


@pytest.mark.parametrize("transcript", FILES, ids=lambda p: p.name)
async def test_transcript_replay(transcript: pathlib.Path) -> None:
    server = KubeApiServer(crd_dir=None, too_large_rv_wait=0.05, bookmark_lead=0.5)
    for namespace in ("team-a", "team-b", "team-w"):
        server.create_namespace(namespace)
    if transcript.name != "01-crd.json":
        first = json.loads((TRANSCRIPTS / "01-crd.json").read_text())[0]
        server.add_crd(first["request"]["body"])
    await server.start()
    translator = Translator(server)
    try:
        for earlier in FILES:
            if earlier.name == "01-crd.json" or earlier >= transcript:
                continue
            await _replay_file(earlier, server, translator, check=False)
        failures = await _replay_file(transcript, server, translator, check=True)
    finally:
        await server.stop()
    assert not failures, "\n".join(failures)


def test_transcripts_present() -> None:
    assert len(FILES) == 13, f"expected the 13 recorded transcript files in {TRANSCRIPTS}"
