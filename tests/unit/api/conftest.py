"""Fixtures for the API tests: the committed CRDs and samples, and a small schema checker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
CRD_DIR = REPO_ROOT / "manifests" / "crd"
SAMPLES_DIR = REPO_ROOT / "manifests" / "samples"
DOCS_DIR = REPO_ROOT / "docs" / "reference"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def crds() -> dict[str, dict[str, Any]]:
    """The committed CRDs keyed by kind."""
    documents = [load_yaml(path) for path in sorted(CRD_DIR.glob("auth.litellm.ai_*.yaml"))]
    return {document["spec"]["names"]["kind"]: document for document in documents}


@pytest.fixture(scope="session")
def samples() -> dict[str, dict[str, Any]]:
    """The committed sample objects keyed by file name, in kustomization order."""
    kustomization = load_yaml(SAMPLES_DIR / "kustomization.yaml")
    return {name: load_yaml(SAMPLES_DIR / name) for name in kustomization["resources"]}


def crd_schema(crd: dict[str, Any]) -> dict[str, Any]:
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def check_schema(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """List the violations of the OpenAPI keywords that the CRDs use, without CEL rules.

    A stand-in for the API server's validation in unit tests; it rejects unknown fields instead
    of pruning them, so a typo in a sample fails.
    """
    expected = schema["type"]
    python_types = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int}
    if not isinstance(value, python_types[expected]) or (expected == "integer" and isinstance(value, bool)):
        return [f"{path}: expected {expected}, got {value!r}"]

    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{path}: {value!r} is below {schema['minimum']}")

    if expected == "array":
        for index, item in enumerate(value):
            errors += check_schema(schema["items"], item, f"{path}[{index}]")
    if expected == "object":
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}.{name}: required")
        properties = schema.get("properties")
        for key, item in value.items():
            if properties is not None:
                if key not in properties:
                    errors.append(f"{path}.{key}: unknown field")
                else:
                    errors += check_schema(properties[key], item, f"{path}.{key}")
            elif "additionalProperties" in schema:
                errors += check_schema(schema["additionalProperties"], item, f"{path}[{key!r}]")
    return errors
