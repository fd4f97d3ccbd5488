"""Shared fixtures: `cluster` (an API server and a fresh namespace per test) and `double`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from litellm_operator.testing.cluster import Cluster, open_cluster


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    """A KubeClient and a namespace of its own; the double unless LITELLM_OPERATOR_TEST_KUBECONFIG is set."""
    async with open_cluster(tmp_path) as value:
        yield value


@pytest.fixture
def double(cluster: Cluster):  # type: ignore[no-untyped-def]
    """The KubeApiServer double behind `cluster`; skips the test on a real cluster."""
    if not cluster.is_double:
        pytest.skip("needs the in-process API server double")
    return cluster.server
