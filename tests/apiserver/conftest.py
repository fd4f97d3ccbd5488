"""Fixtures for the API server double: a started server with the Team CRD and test namespaces."""

from __future__ import annotations

import json
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from litellm_operator.testing.apiserver import KubeApiServer

TRANSCRIPTS = pathlib.Path(__file__).resolve().parent / "data" / "kube-apiserver-transcripts"
TEAMS = "/apis/auth.litellm.ai/v1alpha1/namespaces/{ns}/teams"

# The Team CRD the transcripts were recorded with: spec.teamAlias required, a status subresource,
# conditions as a list-map keyed by type, and a CEL rule for the focused CEL tests.
TEAM_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "teams.auth.litellm.ai"},
    "spec": {
        "group": "auth.litellm.ai",
        "scope": "Namespaced",
        "names": {"plural": "teams", "singular": "team", "kind": "Team", "listKind": "TeamList"},
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Alias", "type": "string", "jsonPath": ".spec.teamAlias"},
                    {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["teamAlias"],
                                "properties": {
                                    "teamAlias": {"type": "string"},
                                    "maxBudget": {"type": "string"},
                                    "models": {"type": "array", "items": {"type": "string"}},
                                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                                },
                            },
                            "status": {
                                "type": "object",
                                "properties": {
                                    "teamId": {"type": "string"},
                                    "observedGeneration": {"type": "integer", "format": "int64"},
                                    "conditions": {
                                        "type": "array",
                                        "x-kubernetes-list-type": "map",
                                        "x-kubernetes-list-map-keys": ["type"],
                                        "items": {
                                            "type": "object",
                                            "required": ["type", "status"],
                                            "properties": {
                                                "type": {"type": "string"},
                                                "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
                                                "reason": {"type": "string"},
                                                "message": {"type": "string"},
                                                "lastTransitionTime": {"type": "string", "format": "date-time"},
                                                "observedGeneration": {"type": "integer", "format": "int64"},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}


class Client:
    """A small aiohttp client for the double that returns (status, parsed body, headers)."""

    def __init__(self, server: KubeApiServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> tuple[int, Any, Any]:
        all_headers = {"Authorization": f"Bearer {token or self.server.token}", "User-Agent": "apiserver-tests/1.0"}
        if body is not None:
            all_headers["Content-Type"] = content_type
        all_headers.update(headers or {})
        data = body if isinstance(body, str) or body is None else json.dumps(body)
        async with self.session.request(method, self.server.url + path, data=data, headers=all_headers) as response:
            text = await response.text()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            return response.status, parsed, response.headers

    async def create_team(self, namespace: str, name: str, **spec: Any) -> dict[str, Any]:
        body = {"apiVersion": "auth.litellm.ai/v1alpha1", "kind": "Team", "metadata": {"name": name},
                "spec": {"teamAlias": name} | spec}
        status, created, _ = await self.request("POST", TEAMS.format(ns=namespace), body)
        assert status == 201, created
        return created


@pytest.fixture
async def server() -> AsyncIterator[KubeApiServer]:
    double = KubeApiServer(crd_dir=None, too_large_rv_wait=0.05)
    double.add_crd(TEAM_CRD)
    for namespace in ("team-a", "team-b", "team-w"):
        double.create_namespace(namespace)
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def client(server: KubeApiServer) -> AsyncIterator[Client]:
    connector = aiohttp.TCPConnector(ssl=server.client_ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield Client(server, session)
