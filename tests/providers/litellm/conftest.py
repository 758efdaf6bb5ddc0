from __future__ import annotations

from typing import Any

import pytest

from opentelemetry_instrumentation_llm import LiteLLMInstrumentor
from tests.conftest import instrument_fixture  # sets LITELLM_LOCAL_MODEL_COST_MAP before litellm loads

API_KEY = "sk-litellm-THIS-KEY-MUST-NEVER-BE-RECORDED-0123456789"

instrument = instrument_fixture(LiteLLMInstrumentor)


@pytest.fixture
def instrumented(instrument: Any) -> LiteLLMInstrumentor:
    return instrument()
