"""kubectl against the double over TLS: `apply --validate=false` of a Team, `get teams`, a wrong token."""

from __future__ import annotations

import asyncio
import pathlib
import shutil

import pytest
import yaml

from litellm_operator.testing.apiserver import KubeApiServer

from .conftest import TEAMS, Client

KUBECTL = shutil.which("kubectl")
TEAM_YAML = """\
apiVersion: auth.litellm.ai/v1alpha1
kind: Team
metadata:
  name: kubectl-applied
  namespace: team-a
spec:
  teamAlias: Applied by kubectl
"""


async def _kubectl(kubeconfig: pathlib.Path, cache: pathlib.Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode, stdout.decode(), stderr.decode()


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
async def test_kubectl_apply_and_get(server: KubeApiServer, client: Client, tmp_path: pathlib.Path) -> None:
    # Over TLS kubectl verifies the server against the kubeconfig's CA and sends the token.
    assert server.url.startswith("https://")
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "team.yaml").write_text(TEAM_YAML)

    code, out, err = await _kubectl(kubeconfig, tmp_path / "cache", "apply", "--validate=false", "-f", str(manifests))
    assert code == 0, err
    assert "team.auth.litellm.ai/kubectl-applied created" in out

    status, team, _ = await client.request("GET", TEAMS.format(ns="team-a") + "/kubectl-applied")
    assert status == 200
    assert team["spec"]["teamAlias"] == "Applied by kubectl"
    assert any(entry["manager"] == "kubectl-client-side-apply" for entry in team["metadata"]["managedFields"])

    code, out, err = await _kubectl(kubeconfig, tmp_path / "cache", "get", "teams", "-n", "team-a")
    assert code == 0, err
    header, row = out.splitlines()[:2]
    assert header.split() == ["NAME", "ALIAS", "READY", "AGE"]
    assert row.split()[:4] == ["kubectl-applied", "Applied", "by", "kubectl"]

    assert all(record.status != 403 for record in server.request_log), "kubectl sent a request without the token"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
async def test_kubectl_wrong_token_unauthorized(server: KubeApiServer, tmp_path: pathlib.Path) -> None:
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    document = yaml.safe_load(kubeconfig.read_text())
    document["users"][0]["user"]["token"] = "not-the-token"
    kubeconfig.write_text(yaml.safe_dump(document))

    code, _out, err = await _kubectl(kubeconfig, tmp_path / "cache", "get", "teams", "-n", "team-a")

    assert code != 0
    assert "You must be logged in to the server" in err
    assert server.request_log, "kubectl reached the server"
    assert {record.status for record in server.request_log} == {401}
