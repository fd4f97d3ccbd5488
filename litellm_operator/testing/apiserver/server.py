"""`KubeApiServer`: an in-process aiohttp server that speaks the kube-apiserver REST protocol.

It serves HTTPS by default, with a certificate from a throwaway CA that its kubeconfig carries
(see `tls`), or plain HTTP with `tls=False`. It serves the built-in kinds the operator uses, the custom resources of the CRDs in `crd_dir`
(and any CRD created through the API), discovery for kubectl, and test hooks: `request_log`,
`compact()`, `close_watches()`, `fail_next(...)` and `write_kubeconfig(path)`.
"""

from __future__ import annotations

import json
import logging
import pathlib
import re
import secrets
import ssl
from typing import Any

import attrs
import yaml
from aiohttp import web

from . import discovery, resources
from .errors import PageNotFound, StatusError, qualified_resource, resource_details
from .handlers import Registry, ResourceApi
from .kubeconfig import kubeconfig_document
from .requests import ApiRequest, media_type_of, not_acceptable, wants
from .storage import Storage
from .tls import ServerCertificates, issue_server_certificates
from .watch import WatchSettings, serve_watch

logger = logging.getLogger(__name__)

DEFAULT_CRD_DIR = pathlib.Path(__file__).resolve().parents[3] / "manifests" / "crd"
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
            410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
            503: "ServiceUnavailable", 504: "Timeout"}
_ANONYMOUS_PATHS = {"/version", "/healthz", "/readyz", "/livez"}


@attrs.define
class RequestRecord:
    """One handled request. `verb` is the RBAC verb; resource fields are None for other URLs."""

    method: str
    path: str
    query: dict[str, str]
    user_agent: str
    status: int = 0
    verb: str | None = None
    group: str | None = None
    resource: str | None = None
    subresource: str | None = None
    namespace: str | None = None
    name: str | None = None


@attrs.define
class _InjectedFailure:
    method: str
    path_pattern: re.Pattern[str]
    status: int
    remaining: int


class KubeApiServer:
    """The API server double. Use `await start()`, then point clients at `url` with `token`.

    Over TLS (the default) a client must trust `ca_pem`: `write_kubeconfig(path)` includes it, and
    `client_ssl_context()` returns a context for aiohttp.
    """

    def __init__(
        self,
        crd_dir: str | pathlib.Path | None = DEFAULT_CRD_DIR,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        bookmark_interval: float = 60.0,
        bookmark_lead: float = 2.0,
        too_large_rv_wait: float = 3.0,
        allow_anonymous: bool = False,
        tls: bool = True,
    ) -> None:
        # With allow_anonymous=True, requests without credentials are served instead of given 403.
        # kubectl (client-go) sends no bearer token to a plain-HTTP server, so a kubectl session
        # needs it only with tls=False.
        self.allow_anonymous = allow_anonymous
        self.tls = tls
        self.host = host
        self.port = port
        self.token = token or secrets.token_hex(16)
        self.storage = Storage()
        self.registry = Registry()
        self.api = ResourceApi(self.storage, self.registry, too_large_rv_wait=too_large_rv_wait)
        self.watch_settings = WatchSettings(bookmark_interval=bookmark_interval, bookmark_lead=bookmark_lead)
        self.request_log: list[RequestRecord] = []
        self._failures: list[_InjectedFailure] = []
        self._open_streams: set[web.StreamResponse] = set()
        self._runner: web.AppRunner | None = None
        # Issued at the first start and kept across restarts, so written kubeconfigs stay valid.
        self._certificates: ServerCertificates | None = None
        if crd_dir is not None:
            self.load_crds(crd_dir)

    # Lifecycle and hooks -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def ca_pem(self) -> bytes | None:
        """PEM of the CA that signed the server certificate; None with plain HTTP or before the first start."""
        return self._certificates.ca_pem if self._certificates is not None else None

    def client_ssl_context(self) -> ssl.SSLContext:
        """Build a client TLS context that trusts this server's CA, for aiohttp and other HTTP clients."""
        if self._certificates is None:
            raise RuntimeError("the API server double has no CA because it serves plain HTTP (tls=False) or has not started yet")
        return self._certificates.client_context()

    async def start(self) -> None:
        server_context = None
        if self.tls:
            if self._certificates is None:
                self._certificates = issue_server_certificates([self.host])
            server_context = self._certificates.server_context
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=server_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        logger.info("api server double started url=%s", self.url)

    async def stop(self) -> None:
        self.close_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        logger.info("api server double stopped url=%s", self.url)

    async def __aenter__(self) -> KubeApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def compact(self) -> None:
        """Drop the change history: watches and exact lists from any older resourceVersion get 410."""
        self.storage.compact()

    def close_watches(self) -> None:
        """End every open watch stream cleanly, as an API server restart or timeout would."""
        self.storage.close_watchers()

    def fail_next(self, method: str, path_regex: str, status: int = 500, times: int = 1) -> None:
        """Respond to the next `times` requests whose method and path match with an error Status."""
        self._failures.append(_InjectedFailure(method.upper(), re.compile(path_regex), status, times))

    def write_kubeconfig(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write a kubeconfig with the server URL, the token and, over TLS, the CA. Call after `start()`."""
        if self.tls and self._certificates is None:
            raise RuntimeError("kubeconfig not written because the CA does not exist yet. Call start() first")
        path = pathlib.Path(path)
        path.write_text(yaml.safe_dump(kubeconfig_document(self.url, self.token, ca_pem=self.ca_pem)))
        return path

    def load_crds(self, crd_dir: str | pathlib.Path) -> None:
        """Create every CustomResourceDefinition found in the YAML files of `crd_dir`."""
        directory = pathlib.Path(crd_dir)
        if not directory.is_dir():
            logger.info("CRD directory not found, serving no custom resources path=%s", directory)
            return
        for file in sorted(directory.glob("*.y*ml")):
            for document in yaml.safe_load_all(file.read_text()):
                if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition":
                    self.add_crd(document)

    def add_crd(self, crd: dict[str, Any]) -> dict[str, Any]:
        """Create a CRD directly (no HTTP); its resources are served at once."""
        request = self._internal_request("POST", resources.CRDS, None, None, json.dumps(crd))
        return self.api.create(request)[1]

    def create_namespace(self, name: str) -> dict[str, Any]:
        """Create a Namespace directly (no HTTP)."""
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        request = self._internal_request("POST", resources.NAMESPACES, None, None, json.dumps(body))
        return self.api.create(request)[1]

    @staticmethod
    def _internal_request(method: str, rt: resources.ResourceType, namespace: str | None, name: str | None, body: str) -> ApiRequest:
        return ApiRequest(method, rt, namespace, name, None, {}, "application/json", "application/json",
                          "kube-api-server-double/1.0", body)

    # Dispatch --------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        query = {key: request.query.get(key, "") for key in request.query}
        record = RequestRecord(request.method, request.path, query, request.headers.get("User-Agent", ""))
        self.request_log.append(record)
        try:
            response = await self._handle(request, record)
        except StatusError as error:
            response = _status_response(error)
        except PageNotFound:
            response = web.Response(status=404, text="404 page not found\n", content_type="text/plain",
                                    headers={"X-Content-Type-Options": "nosniff"})
        record.status = response.status
        return response

    def _take_failure(self, method: str, path: str) -> int | None:
        for failure in self._failures:
            if failure.method in (method, "*") and failure.path_pattern.search(path):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure.status
        return None

    async def _handle(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        api_request = self._parse_resource_path(request, path, record) if path.startswith(("/api/", "/apis/")) else None

        injected = self._take_failure(request.method, path)
        if injected is not None:
            raise StatusError(injected, _REASONS.get(injected, ""), f"injected failure for {request.method} {path}")

        self._authenticate(request, path, api_request)
        if path in ("/healthz", "/readyz", "/livez"):
            return web.Response(text="ok", content_type="text/plain", headers={"X-Content-Type-Options": "nosniff"})
        if api_request is None:
            return self._serve_non_resource(request, path)
        return await self._serve_resource(request, api_request)

    def _authenticate(self, request: web.Request, path: str, api_request: ApiRequest | None) -> None:
        header = request.headers.get("Authorization", "")
        if header == f"Bearer {self.token}":
            return
        if header:
            raise StatusError(401, "Unauthorized", "Unauthorized")
        if path in _ANONYMOUS_PATHS or self.allow_anonymous:
            return
        if api_request is None:
            raise StatusError(403, "Forbidden", f'forbidden: User "system:anonymous" cannot get path "{path}"', {})
        rt = api_request.rt
        target = qualified_resource(rt.group, rt.plural)
        subject = f'{target} "{api_request.name}"' if api_request.name else target
        scope = f' in the namespace "{api_request.namespace}"' if api_request.namespace else " at the cluster scope"
        raise StatusError(
            403,
            "Forbidden",
            f'{subject} is forbidden: User "system:anonymous" cannot {api_request.verb} resource "{rt.plural}" '
            f'in API group "{rt.group}"{scope}',
            resource_details(api_request.name, rt.group, rt.plural),
        )

    def _parse_resource_path(self, request: web.Request, path: str, record: RequestRecord) -> ApiRequest | None:
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None

        if not rest:
            return None

        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
            namespace, rest = rest[1], rest[2:]

        plural, name, subresource = rest[0], (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else None)
        if len(rest) > 3:
            raise PageNotFound()

        rt = self.registry.lookup(group, version, plural)
        if rt is None:
            raise PageNotFound()

        if not rt.namespaced and namespace is not None:
            raise PageNotFound()

        if rt.namespaced and namespace is None and name is not None:
            raise PageNotFound()

        query = {key: request.query.get(key, "") for key in request.query}
        api_request = ApiRequest(
            request.method, rt, namespace, name, subresource, query,
            request.headers.get("Content-Type", "application/json"), request.headers.get("Accept", ""),
            request.headers.get("User-Agent", ""),
        )
        record.verb = api_request.verb
        record.group = group
        record.resource = plural
        record.subresource = subresource
        record.namespace = namespace
        record.name = name
        return api_request

    def _serve_non_resource(self, request: web.Request, path: str) -> web.StreamResponse:
        if request.method != "GET":
            raise PageNotFound()
        accept = request.headers.get("Accept", "")
        if path == "/version":
            return _json_response(discovery.VERSION_INFO)
        if path == "/api":
            if discovery.wants_aggregated(accept):
                return _json_response(discovery.aggregated_discovery(self.registry, core=True),
                                      content_type=discovery.AGGREGATED_DISCOVERY_TYPE)
            return _json_response(discovery.api_versions(f"{self.host}:{self.port}"))
        if path == "/apis":
            if discovery.wants_aggregated(accept):
                return _json_response(discovery.aggregated_discovery(self.registry, core=False),
                                      content_type=discovery.AGGREGATED_DISCOVERY_TYPE)
            return _json_response(discovery.api_group_list(self.registry))
        if path == "/openapi/v3":
            return _json_response(discovery.openapi_index(self.registry))
        parts = path.strip("/").split("/")
        if path.startswith("/openapi/v3/"):
            group, version = (parts[3], parts[4]) if parts[2] == "apis" and len(parts) == 5 else ("", parts[3] if len(parts) == 4 else "")
            document = discovery.openapi_document(self.registry, group, version)
            if document is None:
                raise PageNotFound()
            return _json_response(document)
        if parts[0] == "api" and len(parts) == 2:
            body = discovery.api_resource_list(self.registry, "", parts[1])
        elif parts[0] == "apis" and len(parts) == 2:
            body = discovery.api_group(self.registry, parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            body = discovery.api_resource_list(self.registry, parts[1], parts[2])
        else:
            body = None
        if body is None:
            raise PageNotFound()
        return _json_response(body)

    async def _serve_resource(self, http_request: web.Request, request: ApiRequest) -> web.StreamResponse:
        rt = request.rt
        if request.rt.is_custom and "protobuf" in request.accept and media_type_of(request.accept) != "json":
            raise not_acceptable()

        encoding = media_type_of(request.accept)
        if not encoding:
            raise not_acceptable()

        request.body_text = await http_request.text() if http_request.can_read_body else ""
        method = request.method
        if method == "GET":
            if request.query.get("watch") in ("1", "true", "True"):
                return await serve_watch(http_request, request, self.api, self.watch_settings, self._open_streams)
            if request.name:
                obj = self.api.get(request)
                if wants(request.accept, "Table"):
                    return _json_response(discovery.table(rt, [obj], {"resourceVersion": ""}))
                if wants(request.accept, "PartialObjectMetadata"):
                    return _json_response(discovery.partial_metadata(obj))
                return _encoded_response(obj, encoding)
            listing = await self.api.list(request)
            if wants(request.accept, "Table"):
                return _json_response(discovery.table(rt, listing["items"], listing["metadata"]))
            if wants(request.accept, "PartialObjectMetadataList"):
                return _json_response(discovery.partial_metadata_list(listing))
            return _encoded_response(listing, encoding)

        if method == "POST":
            if rt.namespaced and request.namespace is None:
                raise PageNotFound()
            status, obj, warnings = self.api.create(request)
            return _encoded_response(obj, encoding, status=status, warnings=warnings)

        if method == "PUT":
            status, obj, warnings = self.api.update(request)
            return _encoded_response(obj, encoding, status=status, warnings=warnings)

        if method == "PATCH":
            if not request.name:
                raise PageNotFound()
            status, obj, warnings = self.api.patch(request)
            return _encoded_response(obj, encoding, status=status, warnings=warnings)

        if method == "DELETE":
            if request.name:
                return _encoded_response(self.api.delete(request), encoding)
            return _encoded_response(await self.api.delete_collection(request), encoding)

        raise StatusError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")


def _json_response(body: Any, *, status: int = 200, content_type: str = "application/json") -> web.Response:
    return web.Response(status=status, body=json.dumps(body, separators=(",", ":")).encode(),
                        headers={"Content-Type": content_type})


def _encoded_response(body: Any, encoding: str, *, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    if encoding == "yaml":
        response = web.Response(status=status, text=yaml.safe_dump(body, sort_keys=True), headers={"Content-Type": "application/yaml"})
    else:
        response = _json_response(body, status=status)
    for warning in warnings or []:
        escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{escaped}"')
    return response


def _status_response(error: StatusError) -> web.Response:
    response = _json_response(error.to_status(), status=error.code)
    if error.code == 429:
        response.headers["Retry-After"] = "1"
    for key, value in error.headers.items():
        response.headers[key] = value
    return response
