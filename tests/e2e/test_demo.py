"""`make demo`: the demo applies the samples, reports them Ready, and cleans up after itself.

The demo uses the real proxy when LITELLM_URL and LITELLM_MASTER_KEY are set, like the other
end-to-end tests. A random alias suffix keeps two runs on one shared proxy apart.
"""

from __future__ import annotations

import io
import shutil
import uuid

import pytest

from litellm_operator import demo

KUBECTL = shutil.which("kubectl")


def team_row(output: str) -> list[str]:
    rows = [line.split() for line in output.splitlines() if line.startswith("example-team ")]
    assert len(rows) == 1, output
    return rows[0]


def check_output(output: str, code: int, suffix: str) -> None:
    header = output.split("$ kubectl get teams -o wide\n", 1)[1].splitlines()[0].split()
    assert header[:3] == ["NAME", "ALIAS", "TEAM"]
    row = team_row(output)
    assert row[1] == f"example-team-{suffix}"
    assert row[3] == "True"
    assert row[4] == "Reconciled"
    assert "$ kubectl get users -o wide" in output
    assert "sk-replace-with-the-litellm-master-key" not in output
    assert (code == 0) == ("Every object with a controller is Ready." in output)
    assert "Deleted the samples again" in output
    assert output.rstrip().endswith("Stopped.")


def test_demo_main_without_kubectl(capsys: pytest.CaptureFixture[str]) -> None:
    suffix = uuid.uuid4().hex[:8]

    code = demo.main(["--no-kubectl", "--timeout", "30", "--alias-suffix", suffix])

    output = capsys.readouterr().out
    assert "(the operator client)" in output
    assert "team/example-team created" in output
    check_output(output, code, suffix)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
async def test_demo_applies_with_kubectl() -> None:
    suffix = uuid.uuid4().hex[:8]
    out = io.StringIO()

    code = await demo.run_demo(out, timeout=30, kubectl=KUBECTL, alias_suffix=suffix)

    output = out.getvalue()
    assert "(kubectl apply)" in output
    assert "team.auth.litellm.ai/example-team created" in output
    check_output(output, code, suffix)


def test_prepare_samples_points_secret() -> None:
    endpoint = demo.LiteLLMEndpoint("http://127.0.0.1:1", "sk-demo", "test")

    documents = demo.prepare_samples(demo.load_samples(), endpoint, alias_suffix="x")

    secret = next(document for document in documents if document["kind"] == "Secret")
    assert secret["stringData"] == {"masterKey": "sk-demo", "url": "http://127.0.0.1:1"}
    kinds = {document["kind"] for document in documents}
    assert kinds == {"Secret", "Team", "User", "VirtualKey", "TeamMemberAssociation"}
    team = next(document for document in documents if document["kind"] == "Team")
    assert team["spec"]["teamAlias"] == "example-team-x"
