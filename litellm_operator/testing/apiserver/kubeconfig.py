"""kubeconfig documents that point kubectl and kubernetes_asyncio at the double."""

from __future__ import annotations

import base64
from typing import Any

CONTEXT_NAME = "kube-api-server-double"


def kubeconfig_document(url: str, token: str, *, ca_pem: bytes | None = None, namespace: str = "default") -> dict[str, Any]:
    """Build a kubeconfig for `url` with a bearer token, and with the CA when the server uses TLS."""
    cluster: dict[str, Any] = {"server": url}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode("ascii")
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT_NAME, "cluster": cluster}],
        "users": [{"name": CONTEXT_NAME, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT_NAME, "context": {"cluster": CONTEXT_NAME, "user": CONTEXT_NAME, "namespace": namespace}}],
        "current-context": CONTEXT_NAME,
        "preferences": {},
    }
