"""The docs cannot drift from the code: every instrumentor is documented and reachable, every
relative link resolves."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

from opentelemetry_instrumentation_llm.instrumentor import INSTRUMENTORS
from opentelemetry_instrumentation_llm.providers import PROVIDERS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
PROVIDERS_DOC = (ROOT / "docs" / "providers.md").read_text()


def support_rows() -> list[str]:
    table = README.split("## Support", 1)[1].split("\n\n", 2)[1]
    return [line for line in table.splitlines() if line.startswith("| `")]


@pytest.mark.parametrize("key", sorted(INSTRUMENTORS))
def test_every_instrumentor_has_an_entry_point_a_support_row_and_a_reference_section(key):
    (entry_point,) = importlib.metadata.entry_points(group="opentelemetry_instrumentor", name=f"llm_{key}")
    assert entry_point.load() is INSTRUMENTORS[key]
    distribution = PROVIDERS[key].requirement.split()[0]
    assert any(row.startswith(f"| `{distribution}`") for row in support_rows()), distribution
    assert re.search(rf"^## .*`{re.escape(distribution)}`", PROVIDERS_DOC, re.M), distribution
    assert f"`llm_{key}`" in PROVIDERS_DOC


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.name)
def test_relative_links_resolve(path):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
