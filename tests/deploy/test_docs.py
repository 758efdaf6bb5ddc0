"""The operations docs: links resolve, and they name the files and commands that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, REPO

DOCS = [REPO / "docs" / name for name in ("getting-started.md", "operations.md", "troubleshooting.md", "kubernetes.md")]
DOCS.append(DEPLOY / "README.md")


def anchors(path: Path) -> set[str]:
    return {
        re.sub(r"[^a-z0-9 _-]", "", m.group(1).strip().lower()).replace(" ", "-")
        for m in re.finditer(r"^#+ (.+)$", path.read_text(), re.M)
    }


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_and_anchors_resolve(doc: Path):
    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        assert path.exists(), f"{doc.name}: {target}"
        if anchor:
            assert anchor in anchors(path), f"{doc.name}: no #{anchor} in {path.name}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_deploy_paths_named_in_the_docs_exist(doc: Path):
    for path in set(re.findall(r"`(deploy/[A-Za-z0-9_./*-]+)`", doc.read_text())):
        if path.endswith("compose.gpu.yaml"):
            continue  # an override the reader writes
        assert list(REPO.glob(path)), f"{doc.name}: {path}"


def test_operations_doc_names_every_collector_route():
    text = (REPO / "docs" / "operations.md").read_text()
    for path in (DEPLOY / "collector").glob("*.yaml"):
        assert f"collector/{path.name}" in text, path.name


def test_kubernetes_doc_names_every_file_of_deploy_kubernetes():
    text = (REPO / "docs" / "kubernetes.md").read_text()
    for path in (DEPLOY / "kubernetes").rglob("*"):
        if path.is_file() and path.suffix in {".yaml", ".py", ""} and "__pycache__" not in path.parts:
            assert str(path.relative_to(DEPLOY / "kubernetes")) in text, path.name
    assert "docs/kubernetes.md" in (REPO / "README.md").read_text()
