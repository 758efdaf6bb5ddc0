"""docs/configuration.md carries exactly the table generated from the code's variable registry."""

from __future__ import annotations

from pathlib import Path

from opentelemetry_instrumentation_llm.config import VARIABLES, markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def documented_table() -> str:
    text = DOC.read_text()
    return text.split("<!-- variables:start -->")[1].split("<!-- variables:end -->")[0].strip()


def test_the_documented_table_is_the_generated_one():
    """Regenerate with: python -m opentelemetry_instrumentation_llm.config"""
    assert documented_table() == markdown_table()


def test_every_variable_has_a_row():
    table = documented_table()
    for name in VARIABLES:
        assert f"| `{name}` |" in table
