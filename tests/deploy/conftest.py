from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.deploy.render import MANIFESTS, render_kustomization

Render = Callable[[str], list[dict[str, Any]]]


@pytest.fixture(scope="session")
def render() -> Render:
    """Render manifests/<name> once per session, or skip when the CRDs it includes are not generated yet."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def _render(name: str) -> list[dict[str, Any]]:
        if name in ("default", "namespaced") and not (MANIFESTS / "crd" / "kustomization.yaml").exists():
            pytest.skip("manifests/crd/kustomization.yaml does not exist yet; `make manifests` writes it")
        if name not in cache:
            cache[name] = render_kustomization(MANIFESTS / name)
        return cache[name]

    return _render
