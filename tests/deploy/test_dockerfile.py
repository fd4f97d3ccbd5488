"""The Dockerfile builds a wheel in one stage and runs it as a non-root user in another.

No container engine runs in the test environment, so these tests read the Dockerfile and the
.dockerignore instead of building the image.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib

import pytest

from tests.deploy.render import REPO_ROOT

BASE_IMAGE = "python:3.11-slim"


def instructions():
    """Return (instruction, arguments) pairs of the Dockerfile, with continuation lines joined."""
    text = (REPO_ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    pairs = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def stages():
    """Split the instructions into stages, one list per FROM."""
    result = []
    for instruction, arguments in instructions():
        if instruction == "FROM":
            result.append([])
        result[-1].append((instruction, arguments))
    return result


@pytest.fixture
def final_stage():
    return stages()[-1]


def test_stages_use_slim_python_tag():
    bases = [stage[0][1].split()[0] for stage in stages()]

    assert bases == [BASE_IMAGE, BASE_IMAGE]


def test_builder_builds_wheels():
    builder = stages()[0]

    assert builder[0][1] == f"{BASE_IMAGE} AS builder"
    assert ("RUN", "pip wheel --wheel-dir /wheels .") in builder


def test_final_stage_installs_only_wheels(final_stage):
    runs = [arguments for instruction, arguments in final_stage if instruction == "RUN"]

    assert len(runs) == 1
    assert "--mount=type=bind,from=builder,source=/wheels,target=/wheels" in runs[0]
    assert "pip install --no-index --find-links=/wheels litellm-operator" in runs[0]
    assert not [instruction for instruction, _ in final_stage if instruction in ("COPY", "ADD")]


def test_final_stage_has_no_build_tools(final_stage):
    text = " ".join(arguments for _, arguments in final_stage)

    for tool in ("apt-get", "gcc", "build-essential", "python -m build"):
        assert tool not in text


def test_final_stage_runs_as_numeric_non_root_user(final_stage):
    users = [arguments for instruction, arguments in final_stage if instruction == "USER"]

    assert users == ["65532:65532"]


def test_entrypoint_is_console_script(final_stage):
    entrypoints = [json.loads(arguments) for instruction, arguments in final_stage if instruction == "ENTRYPOINT"]
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]

    assert entrypoints == [["litellm-operator"]]
    assert scripts["litellm-operator"] == "litellm_operator.cli:main"


def dockerignore_patterns():
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path", ["pyproject.toml", "README.md", "litellm_operator/__init__.py", "litellm_operator/cli.py"]
)
def test_dockerignore_keeps_build_inputs(path):
    excluded = [
        pattern
        for pattern in dockerignore_patterns()
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/")
    ]

    assert excluded == []


@pytest.mark.parametrize(
    "path", [".git/config", ".venv/bin/python", "tests/__init__.py", "manifests/crd/kustomization.yaml"]
)
def test_dockerignore_drops_other_files(path):
    excluded = [
        pattern
        for pattern in dockerignore_patterns()
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/")
    ]

    assert excluded != []
