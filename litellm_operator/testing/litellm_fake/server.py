"""``FakeLiteLLM``: an aiohttp server on 127.0.0.1 that serves LiteLLM's management API.

The server adds what tests need around ``FakeState``: master-key auth, a ``calls`` log with
secrets removed, an artificial ``latency``, a ``down`` switch and ``fail_next`` fault
injection. ``down`` makes every request fail with 503 instead of refusing connections, because
the listening port must stay the same for the test that turns it back on. A client raises
the same ``UnavailableError`` for both.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import defaultdict
from typing import Any

import attrs
from aiohttp import web

from .state import FakeState, error_envelope, token_id

logger = logging.getLogger(__name__)

_SECRET_TOKEN = re.compile(r"sk-[A-Za-z0-9_\-]+")
# Request body fields that hold plaintext keys.
_SECRET_FIELDS = {"key", "keys", "new_key"}


@attrs.frozen
class Call:
    """One request the fake served; ``body`` and ``query`` have plaintext keys replaced."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


class FakeLiteLLM:
    """In-memory LiteLLM proxy for tests; ``await start()`` then use ``url``."""

    def __init__(self, master_key: str = "sk-fake-master", *, latency: float = 0.0) -> None:
        self.master_key = master_key
        self.latency = latency
        self.down = False
        self.state = FakeState()
        self.calls: list[Call] = []
        self._failures: dict[str, list[int]] = defaultdict(list)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    def __repr__(self) -> str:
        return f"FakeLiteLLM(url={self._url!r})"

    @property
    def url(self) -> str:
        """Base URL, for example ``http://127.0.0.1:41234``; valid after ``start()``."""
        if self._url is None:
            raise RuntimeError("FakeLiteLLM is not started; await start() first")
        return self._url

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 at ``port`` (0 picks a free port)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self._url = f"http://127.0.0.1:{bound_port}"
        logger.info("fake LiteLLM started url=%s", self._url)

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            logger.info("fake LiteLLM stopped url=%s", self._url)

    async def __aenter__(self) -> FakeLiteLLM:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def fail_next(self, path: str, status: int, times: int = 1) -> None:
        """Fail the next ``times`` requests to ``path`` with ``status`` and an error body."""
        self._failures[path].extend([status] * times)

    def calls_to(self, path: str) -> list[Call]:
        """Return the logged calls to one path, oldest first."""
        return [call for call in self.calls if call.path == path]

    # ---- request handling --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        query = dict(request.query)
        body = await _read_json(request)
        status, payload = self._dispatch(request, query, body)
        self.calls.append(
            Call(request.method, _redact(request.path), _redact(query), _redact(body), status)
        )
        return web.json_response(payload, status=status)

    def _dispatch(self, request: web.Request, query: dict[str, str], body: Any) -> tuple[int, Any]:
        path = request.path
        if self.down:
            return 503, {"detail": "fake LiteLLM is down"}
        if self._failures.get(path):
            status = self._failures[path].pop(0)
            return error_envelope(status, f"injected failure on {path}", "fake_failure")

        caller = self._authenticate(request)
        if caller is None:
            return error_envelope(401, "Authentication Error, Invalid API key provided.", "auth_error", "None")
        if caller != "master":
            return self._serve_virtual_key(caller, request, query)

        if body is _INVALID_JSON:
            return 422, {"detail": [{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}]}
        body = body if isinstance(body, dict) else {}
        return self._route(request.method, path, query, body)

    def _authenticate(self, request: web.Request) -> str | None:
        """Return "master", a virtual key's token id, or None when the caller is unknown."""
        header = request.headers.get("Authorization", "")
        bearer = header[len("Bearer "):] if header.startswith("Bearer ") else ""
        if not bearer:
            return None
        if bearer == self.master_key:
            return "master"
        key, deleted = self.state.find_key(bearer) if bearer.startswith("sk-") else (None, False)
        if key is None or deleted or key["blocked"]:
            return None
        return key["token"]

    def _serve_virtual_key(self, token: str, request: web.Request, query: dict[str, str]) -> tuple[int, Any]:
        # A virtual key may read its own /key/info and nothing else of the management API.
        requested = query.get("key")
        if request.path == "/key/info" and (requested is None or token in (requested, token_id(requested))):
            return self.state.key_info(token)
        return error_envelope(403, "Virtual key is not allowed to call this route.", "auth_error", "None")

    def _route(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        state = self.state
        if method == "GET":
            getters = {
                "/team/info": lambda: state.team_info(query.get("team_id")),
                "/v2/team/list": lambda: state.team_list(query),
                "/user/info": lambda: state.user_info(query.get("user_id")),
                "/user/list": lambda: state.user_list(query),
                "/key/info": lambda: state.key_info(query.get("key")),
                "/key/list": lambda: state.key_list(query),
            }
            if path in getters:
                return getters[path]()
        if method == "POST":
            posts = {
                "/team/new": lambda: state.team_new(body),
                "/team/update": lambda: state.team_update(body),
                "/team/delete": lambda: state.team_delete(body),
                "/team/block": lambda: state.team_block(body, True),
                "/team/unblock": lambda: state.team_block(body, False),
                "/team/permissions_update": lambda: state.team_permissions_update(body),
                "/team/member_add": lambda: state.member_add(body),
                "/team/member_update": lambda: state.member_update(body),
                "/team/member_delete": lambda: state.member_delete(body),
                "/user/new": lambda: state.user_new(body),
                "/user/update": lambda: state.user_update(body),
                "/user/delete": lambda: state.user_delete(body),
                "/key/generate": lambda: state.key_generate(body),
                "/key/update": lambda: state.key_update(body),
                "/key/delete": lambda: state.key_delete(body),
                "/key/block": lambda: state.key_block(body, True),
                "/key/unblock": lambda: state.key_block(body, False),
                "/key/regenerate": state.key_regenerate,
            }
            if path in posts:
                return posts[path]()
            if path.startswith("/key/") and path.endswith("/regenerate"):
                return state.key_regenerate()
        return 404, {"detail": "Not Found"}


_INVALID_JSON = object()


async def _read_json(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return _INVALID_JSON


def _redact(value: Any, field: str | None = None) -> Any:
    """Copy a JSON value with plaintext keys replaced by ``"<redacted>"``."""
    if value is _INVALID_JSON:
        return "<invalid JSON>"
    if isinstance(value, dict):
        return {name: _redact(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [_redact(item, field) for item in value]
    if isinstance(value, str):
        if field in _SECRET_FIELDS and value.startswith("sk-"):
            return "<redacted>"
        return _SECRET_TOKEN.sub("<redacted>", value)
    return value
