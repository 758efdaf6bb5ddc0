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


def test_the_provider_table_is_the_one_registry():
    """Every SDK key in the provider table has its instrumentor class, export, extra and fake dialect."""
    import tomllib

    import opentelemetry_instrumentation_llm as llm
    from opentelemetry_instrumentation_llm.testing import dialects

    assert list(INSTRUMENTORS) == list(PROVIDERS)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for key, entry in PROVIDERS.items():
        cls = INSTRUMENTORS[key]
        assert getattr(llm, cls.__name__) is cls and cls.__name__ in llm.__all__
        distribution = entry.requirement.split()[0]
        installed_by = {"botocore": "boto3"}.get(distribution, distribution)  # boto3 brings the botocore we patch
        pinned = [req for reqs in extras.values() for req in reqs if req.startswith(installed_by)]
        assert pinned, f"{distribution} is in no extra of pyproject.toml"
        if key != "litellm":  # litellm speaks the other providers' APIs, and the fake answers it with theirs
            assert hasattr(dialects, key), f"no fake dialect for {key}"
    entry_points = {
        ep.name
        for ep in importlib.metadata.entry_points(group="opentelemetry_instrumentor")
        if ep.value.startswith("opentelemetry_instrumentation_llm.instrumentor:")
    }
    assert entry_points == {f"llm_{key}" for key in PROVIDERS}


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.name)
def test_relative_links_resolve(path):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"
