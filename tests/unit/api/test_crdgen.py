"""The committed CRDs and reference docs match the models, and the CRDs are well formed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from litellm_operator.api import KINDS
from litellm_operator.api.crdgen import main, render_crds, render_docs

from .conftest import CRD_DIR, DOCS_DIR, crd_schema

STALE_HINT = (
    "is out of date with litellm_operator/api; run `make manifests`"
    " (python -m litellm_operator.api.crdgen manifests/crd --docs docs/reference) and commit the result"
)


@pytest.mark.parametrize("name", sorted(render_crds()))
def test_committed_crd_matches_models(name: str) -> None:
    path = CRD_DIR / name
    assert path.is_file(), f"{path} {STALE_HINT}"
    assert path.read_text(encoding="utf-8") == render_crds()[name], f"{path} {STALE_HINT}"


@pytest.mark.parametrize("name", sorted(render_docs()))
def test_committed_reference_matches_models(name: str) -> None:
    path = DOCS_DIR / name
    assert path.is_file(), f"{path} {STALE_HINT}"
    assert path.read_text(encoding="utf-8") == render_docs()[name], f"{path} {STALE_HINT}"


def test_check_flag_passes_on_committed_files() -> None:
    assert main([str(CRD_DIR), "--docs", str(DOCS_DIR), "--check"]) == 0


def test_check_flag_fails_on_edited_file(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    edited = tmp_path / "auth.litellm.ai_teams.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")

    assert main([str(tmp_path), "--check"]) == 1


def test_kustomization_lists_every_crd() -> None:
    kustomization = render_crds()["kustomization.yaml"]
    for info in KINDS:
        assert f"auth.litellm.ai_{info.resource.plural}.yaml" in kustomization


def _walk(schema: dict[str, Any], path: str = "$"):  # type: ignore[no-untyped-def]
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    if "items" in schema:
        yield from _walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _walk(schema["additionalProperties"], f"{path}{{}}")


def test_crd_schemas_are_structural(crds: dict[str, dict[str, Any]]) -> None:
    for kind, crd in crds.items():
        for path, node in _walk(crd_schema(crd)):
            assert "type" in node, f"{kind} {path} has no type"
            if "properties" in node:
                assert "additionalProperties" not in node, f"{kind} {path}"
            assert "x-kubernetes-preserve-unknown-fields" not in node, f"{kind} {path}"


def test_crds_are_namespaced_with_status(crds: dict[str, dict[str, Any]]) -> None:
    for kind, crd in crds.items():
        assert crd["spec"]["scope"] == "Namespaced", kind
        assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}, kind
        assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.auth.litellm.ai", kind


def test_conditions_are_list_map_by_type(crds: dict[str, dict[str, Any]]) -> None:
    for kind, crd in crds.items():
        conditions = crd_schema(crd)["properties"]["status"]["properties"]["conditions"]
        assert conditions["x-kubernetes-list-type"] == "map", kind
        assert conditions["x-kubernetes-list-map-keys"] == ["type"], kind
        item = conditions["items"]
        assert "type" in item["required"], kind
        assert item["properties"]["status"]["enum"] == ["True", "False", "Unknown"], kind
        assert item["properties"]["lastTransitionTime"]["format"] == "date-time", kind


def test_ready_and_age_columns_on_every_kind(crds: dict[str, dict[str, Any]]) -> None:
    for kind, crd in crds.items():
        columns = {column["name"]: column for column in crd["spec"]["versions"][0]["additionalPrinterColumns"]}
        assert columns["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status', kind
        assert columns["Age"]["type"] == "date", kind


# Short names of common built-in kinds (as `kubectl api-resources` lists them) that ours must not shadow.
CORE_SHORT_NAMES = {
    "cm", "cs", "csr", "deploy", "ds", "ep", "ev", "hpa", "ing", "limits", "netpol", "no", "ns",
    "pc", "pdb", "po", "psp", "pv", "pvc", "quota", "rc", "rs", "sa", "sc", "sts", "svc", "crd", "crds",
}


def test_short_names_unique_and_not_core() -> None:
    short_names = [name for info in KINDS for name in info.short_names]
    assert len(short_names) == len(set(short_names))
    assert not set(short_names) & CORE_SHORT_NAMES
    assert {"lteam", "luser", "vkey", "tma"} <= set(short_names)
