"""docs/configuration.md lists exactly the variables the code reads, with the code's defaults."""

from __future__ import annotations

import re
from pathlib import Path

from opentelemetry_instrumentation_llm.config import VARIABLES

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def documented_rows() -> dict[str, tuple[str, str]]:
    text = DOC.read_text()
    block = text.split("<!-- variables:start -->")[1].split("<!-- variables:end -->")[0]
    rows = {}
    for line in block.splitlines():
        match = re.match(r"\| `([A-Z0-9_]+)` \| ([^|]+) \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = (match.group(2).strip(), match.group(3).strip())
    return rows


def test_every_variable_is_documented_and_nothing_else():
    assert set(documented_rows()) == set(VARIABLES)


def test_documented_defaults_and_accepted_values_match_the_code():
    for name, (default, accepts) in documented_rows().items():
        variable = VARIABLES[name]
        assert default == (f"`{variable.default}`" if variable.default is not None else "unset"), name
        assert accepts == variable.accepts, name
