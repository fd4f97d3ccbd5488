"""Generate the CustomResourceDefinitions (and the reference docs) from the attrs models.

Usage::

    python -m litellm_operator.api.crdgen manifests/crd [--docs docs/reference] [--check]

It writes one `<group>_<plural>.yaml` per kind and a kustomization.yaml that lists them. With
`--check` it writes nothing and exits with status 1 when a file on disk differs from what the
models produce.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import yaml

from litellm_operator.api.common import VERSION
from litellm_operator.api.kinds import KINDS, KindInfo
from litellm_operator.api.openapi import object_schema
from litellm_operator.api.refdocs import render_reference

logger = logging.getLogger(__name__)

HEADER = "# Generated from litellm_operator/api by `make manifests`. Do not edit.\n"


def crd_file_name(info: KindInfo) -> str:
    """Return the file name of a kind's CRD, as `<group>_<plural>.yaml`."""
    return f"{info.resource.group}_{info.resource.plural}.yaml"


def build_crd(info: KindInfo) -> dict[str, Any]:
    """Build the CustomResourceDefinition of one kind as a dict."""
    schema = object_schema(info.model)
    schema["description"] = info.summary

    # The schema of the kind itself requires `spec` because the Python model does.
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "subresources": {"status": {}},
        "additionalPrinterColumns": [column.to_crd() for column in info.printer_columns],
        "schema": {"openAPIV3Schema": schema},
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": info.crd_name},
        "spec": {
            "group": info.resource.group,
            "names": {
                "kind": info.resource.kind,
                "listKind": info.list_kind,
                "plural": info.resource.plural,
                "singular": info.singular,
                "shortNames": list(info.short_names),
                "categories": ["litellm"],
            },
            "scope": "Namespaced" if info.resource.namespaced else "Cluster",
            "versions": [version],
        },
    }


def dump_yaml(document: Any) -> str:
    """Serialize a document as block-style YAML in the order the dicts were built."""
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=100, allow_unicode=True)


def render_crds() -> dict[str, str]:
    """Return the text of every CRD file and of kustomization.yaml, keyed by file name."""
    files = {crd_file_name(info): HEADER + dump_yaml(build_crd(info)) for info in KINDS}
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [crd_file_name(info) for info in KINDS],
    }
    files["kustomization.yaml"] = HEADER + dump_yaml(kustomization)
    return files


def render_docs() -> dict[str, str]:
    """Return the Markdown reference page of every kind, keyed by file name."""
    return {f"{info.singular}.md": render_reference(info) for info in KINDS}


def find_stale_files(directory: Path, files: dict[str, str]) -> list[Path]:
    """Return the paths under `directory` whose content differs from `files` or that are missing."""
    stale = []
    for name, text in files.items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def write_files(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
        logger.info("wrote path=%s", directory / name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m litellm_operator.api.crdgen",
        description="Generate the auth.litellm.ai CRDs from the Python models.",
    )
    parser.add_argument("output_dir", type=Path, help="directory for the CRD YAML files, such as manifests/crd")
    parser.add_argument("--docs", type=Path, metavar="DIR", help="also write one Markdown reference page per kind to DIR")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit with status 1 if a generated file is missing or out of date",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    outputs = [(args.output_dir, render_crds())]
    if args.docs is not None:
        outputs.append((args.docs, render_docs()))

    if args.check:
        stale = [path for directory, files in outputs for path in find_stale_files(directory, files)]
        for path in stale:
            print(f"out of date: {path}; regenerate it with `make manifests`", file=sys.stderr)
        return 1 if stale else 0

    for directory, files in outputs:
        write_files(directory, files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
