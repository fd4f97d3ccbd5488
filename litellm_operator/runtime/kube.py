"""REST client for the Kubernetes API server.

`KubeClient` is the only code in the operator that talks HTTP to the API server. Objects are
plain dicts, exactly the JSON the server returns; typed conversion happens in `litellm_operator.api`.

Connection settings (server URL, CA, client certificates, bearer token, exec plugins) come from
kubernetes_asyncio's kubeconfig and in-cluster loaders. The requests themselves go through one
aiohttp session built from those settings, because the generated kubernetes_asyncio API classes
know nothing of custom resources and cannot stream a watch line by line with our own framing.

Every call except a watch has a timeout. Errors are raised as `ApiError` subclasses built from
the v1 Status body that the server returns. Exception text is built from the status line and
that body only, never from request headers, so a bearer token does not end up in a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any, Self

import aiohttp
import attrs
from kubernetes_asyncio import config as k8s_config
from kubernetes_asyncio.client import Configuration

from litellm_operator import __version__
from litellm_operator.runtime.logging import log_fields

logger = logging.getLogger(__name__)

USER_AGENT = f"litellm-operator/{__version__}"
DEFAULT_TIMEOUT = 30.0
# Retries of a 429 TooManyRequests response, and the longest Retry-After delay we wait.
MAX_THROTTLE_RETRIES = 5
MAX_RETRY_AFTER = 5.0

PATCH_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


@attrs.frozen
class Resource:
    """A REST resource of the API server: group, version, plural and kind."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(
        self,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> str:
        """Build the REST path; `namespace=None` on a namespaced resource means all namespaces."""
        parts = ["/api", self.version] if not self.group else ["/apis", self.group, self.version]
        if self.namespaced and namespace:
            parts += ["namespaces", namespace]
        parts.append(self.plural)
        if name is not None:
            parts.append(name)
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


SECRETS = Resource("", "v1", "secrets", "Secret")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
CORE_EVENTS = Resource("", "v1", "events", "Event")
EVENTS = Resource("events.k8s.io", "v1", "events", "Event")
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
CUSTOM_RESOURCE_DEFINITIONS = Resource(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False
)


class ApiError(Exception):
    """An error response of the API server, built from its v1 Status body."""

    def __init__(self, status: int, reason: str, message: str, body: Mapping[str, Any] | None = None):
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.body = dict(body or {})


class Unauthorized(ApiError):
    """401: the credentials are missing, invalid or expired."""


class Forbidden(ApiError):
    """403: RBAC does not allow the request."""


class NotFound(ApiError):
    """404: the object, its namespace or the resource does not exist."""


class Conflict(ApiError):
    """409: a stale resourceVersion or precondition, or an object that already exists."""


class AlreadyExists(Conflict):
    """409 with reason AlreadyExists: create of a name that is taken."""


class Gone(ApiError):
    """410: the requested resourceVersion is older than the server's history."""


class Invalid(ApiError):
    """422: the object failed validation; `causes` lists the fields."""

    @property
    def causes(self) -> list[dict[str, Any]]:
        return list(self.body.get("details", {}).get("causes", []))


class TooManyRequests(ApiError):
    """429: the server is throttling or still initialising storage."""

    retry_after: float = 1.0


_ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}


def error_from_status(status: int, body: Any, fallback_message: str = "") -> ApiError:
    """Build the `ApiError` subclass for an HTTP status and a v1 Status body (or any body)."""
    if not isinstance(body, Mapping):
        body = {}
    reason = str(body.get("reason") or "")
    message = str(body.get("message") or fallback_message or "no message")
    cls = _ERRORS_BY_STATUS.get(status, ApiError)
    if status == 409 and reason == "AlreadyExists":
        cls = AlreadyExists
    return cls(status, reason or _default_reason(status), message, body)


def _default_reason(status: int) -> str:
    cls = _ERRORS_BY_STATUS.get(status)
    return cls.__name__ if cls else "Unknown"


def _error_from_watch_event(obj: Any) -> ApiError:
    # An ERROR event carries a v1 Status, for example code 410 reason Expired after compaction.
    status = int(obj.get("code") or 500) if isinstance(obj, Mapping) else 500
    return error_from_status(status, obj)


class KubeClient:
    """Async client of the Kubernetes REST API; objects in and out are plain dicts."""

    def __init__(
        self, configuration: Configuration, *, timeout: float = DEFAULT_TIMEOUT, user_agent: str = USER_AGENT
    ):
        self._configuration = configuration
        # The API server records the part before the first "/" as the field manager.
        self._user_agent = user_agent
        self._host = configuration.host.rstrip("/")
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    async def from_kubeconfig(
        cls,
        path: str | None = None,
        context: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = USER_AGENT,
    ) -> KubeClient:
        """Load a kubeconfig (`path`, else $KUBECONFIG or ~/.kube/config), else in-cluster config.

        An explicit `path` that fails to load is an error; only the default locations fall back
        to the in-cluster service account.
        """
        configuration = Configuration()
        if path is not None:
            await k8s_config.load_kube_config(
                config_file=path, context=context, client_configuration=configuration, persist_config=False
            )
            return cls(configuration, timeout=timeout, user_agent=user_agent)
        try:
            await k8s_config.load_kube_config(context=context, client_configuration=configuration, persist_config=False)
        except (k8s_config.ConfigException, FileNotFoundError, OSError) as error:
            logger.debug("kubeconfig not usable, trying in-cluster config", extra=log_fields(error=str(error)))
            k8s_config.load_incluster_config(client_configuration=configuration)
        return cls(configuration, timeout=timeout, user_agent=user_agent)

    @classmethod
    def from_config(
        cls,
        host: str,
        token: str | None = None,
        ca_file: str | None = None,
        verify_ssl: bool = True,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = USER_AGENT,
    ) -> KubeClient:
        configuration = Configuration(host=host)
        if token:
            configuration.api_key["BearerToken"] = f"Bearer {token}"
        configuration.ssl_ca_cert = ca_file
        configuration.verify_ssl = verify_ssl
        return cls(configuration, timeout=timeout, user_agent=user_agent)

    @property
    def host(self) -> str:
        return self._host

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl_context(), limit=100)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self._user_agent, "Accept": "application/json"}
            )
        return self._session

    def _ssl_context(self) -> ssl.SSLContext | bool:
        configuration = self._configuration
        if not self._host.startswith("https"):
            return False
        context = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
        if configuration.cert_file:
            context.load_cert_chain(configuration.cert_file, keyfile=configuration.key_file)
        if not configuration.verify_ssl:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    async def _auth_headers(self) -> dict[str, str]:
        # get_api_key_with_prefix runs the in-cluster loader's refresh hook, which rereads a
        # rotated service account token. NOTE: a token from a kubeconfig exec plugin is read
        # once at load time and is not refreshed when it expires.
        value = await self._configuration.get_api_key_with_prefix("BearerToken")
        return {"Authorization": value} if value else {}

    def _request_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        server_name = getattr(self._configuration, "tls_server_name", None)
        if server_name:
            options["server_hostname"] = server_name
        if getattr(self._configuration, "proxy", None):
            options["proxy"] = self._configuration.proxy
        return options

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request and return the decoded JSON response; raise `ApiError` on errors."""
        for attempt in range(MAX_THROTTLE_RETRIES + 1):
            try:
                return await self._request_once(method, path, params=params, body=body, content_type=content_type)
            except TooManyRequests as error:
                if attempt == MAX_THROTTLE_RETRIES:
                    raise
                delay = min(error.retry_after, MAX_RETRY_AFTER)
                logger.info(
                    "API server throttled the request, retrying",
                    extra=log_fields(method=method, path=path, delay=delay),
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _request_once(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        body: Any,
        content_type: str,
    ) -> Any:
        headers = await self._auth_headers()
        data = None
        if body is not None:
            headers["Content-Type"] = content_type
            data = json.dumps(body).encode()
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        session = self._get_session()
        try:
            async with session.request(
                method,
                self._host + path,
                params=dict(params or {}),
                data=data,
                headers=headers,
                timeout=timeout,
                **self._request_options(),
            ) as response:
                text = await response.text()
                if response.status >= 400:
                    raise _error_from_response(response, text)
                return json.loads(text) if text else {}
        except TimeoutError as error:
            raise TimeoutError(f"{method} {path} timed out after {self._timeout}s") from error

    async def get(self, res: Resource, namespace: str | None, name: str) -> dict[str, Any]:
        return await self.request("GET", res.path(namespace, name))

    async def list(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Return one List object (one page when `limit` is set; follow `metadata.continue`)."""
        params = _selector_params(label_selector, field_selector)
        if limit is not None:
            params["limit"] = str(limit)
        if continue_token:
            params["continue"] = continue_token
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        return await self.request("GET", res.path(namespace), params=params)

    async def watch(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        resource_version: str | None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield the watch events `{"type", "object"}` until the server ends the stream.

        An ERROR event is raised as `ApiError` (`Gone` for an expired resourceVersion).
        """
        params = _selector_params(label_selector, field_selector)
        params["watch"] = "true"
        if resource_version is not None:
            params["resourceVersion"] = resource_version
        if timeout_seconds is not None:
            params["timeoutSeconds"] = str(timeout_seconds)
        if allow_bookmarks:
            params["allowWatchBookmarks"] = "true"

        # The stream may stay idle for a long time, so only connecting has a deadline. Reading
        # gives up 30 s after the server-side timeoutSeconds in case the server never closes.
        read_timeout = timeout_seconds + 30 if timeout_seconds is not None else None
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout, sock_read=read_timeout)
        headers = await self._auth_headers()
        session = self._get_session()
        async with session.get(
            self._host + res.path(namespace),
            params=params,
            headers=headers,
            timeout=timeout,
            **self._request_options(),
        ) as response:
            if response.status >= 400:
                raise _error_from_response(response, await response.text())
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                # A chunk may end in the middle of a line; keep the tail for the next chunk.
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    event = _decode_watch_line(line)
                    if event is not None:
                        yield event
            event = _decode_watch_line(buffer)
            if event is not None:
                yield event

    async def create(self, res: Resource, namespace: str | None, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self.request("POST", res.path(namespace), body=body)

    async def replace(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        body: Mapping[str, Any],
        *,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        return await self.request("PUT", res.path(namespace, name, subresource), body=body)

    async def patch(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        subresource: str | None = None,
        patch_type: str = "merge",
    ) -> dict[str, Any]:
        """Patch an object; `patch_type` is "merge" (RFC 7386), "json" (RFC 6902) or "strategic"."""
        try:
            content_type = PATCH_CONTENT_TYPES[patch_type]
        except KeyError:
            raise ValueError(
                f"invalid patch_type {patch_type!r}, expected one of {sorted(PATCH_CONTENT_TYPES)}"
            ) from None
        return await self.request(
            "PATCH", res.path(namespace, name, subresource), body=patch, content_type=content_type
        )

    async def delete(
        self,
        res: Resource,
        namespace: str | None,
        name: str,
        *,
        preconditions: Mapping[str, str] | None = None,
        propagation_policy: str | None = None,
    ) -> dict[str, Any]:
        """Delete an object; returns the object (finalizers pending) or a Status on success."""
        body: dict[str, Any] | None = None
        if preconditions or propagation_policy:
            body = {"kind": "DeleteOptions", "apiVersion": "v1"}
            if preconditions:
                body["preconditions"] = dict(preconditions)
            if propagation_policy:
                body["propagationPolicy"] = propagation_policy
        return await self.request("DELETE", res.path(namespace, name), body=body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _selector_params(label_selector: str | None, field_selector: str | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if label_selector:
        params["labelSelector"] = label_selector
    if field_selector:
        params["fieldSelector"] = field_selector
    return params


def _decode_watch_line(line: bytes) -> dict[str, Any] | None:
    line = line.strip()
    if not line:
        return None
    event = json.loads(line)
    if event.get("type") == "ERROR":
        raise _error_from_watch_event(event.get("object"))
    return event


def _error_from_response(response: aiohttp.ClientResponse, text: str) -> ApiError:
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        # Unknown URLs return a text/plain "404 page not found".
        body = {}
    error = error_from_status(response.status, body, fallback_message=text.strip()[:200])
    if isinstance(error, TooManyRequests):
        try:
            error.retry_after = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            error.retry_after = 1.0
    return error
