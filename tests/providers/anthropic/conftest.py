from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from opentelemetry_instrumentation_llm import AnthropicInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import instrument_fixture

API_KEY = "sk-ant-test-THIS-KEY-MUST-NEVER-BE-RECORDED-0123456789"
MODEL = "claude-opus-4-6"

instrument = instrument_fixture(AnthropicInstrumentor)


@pytest.fixture
def instrumented(instrument: Any) -> AnthropicInstrumentor:
    return instrument()


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key=API_KEY, base_url=fake_server.anthropic_base_url, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(fake_server: FakeLLMServer, fake: Any) -> Any:
    c = anthropic.AsyncAnthropic(api_key=API_KEY, base_url=fake_server.anthropic_base_url, max_retries=0)
    yield c
    await c.close()


def base_attributes(server: FakeLLMServer, model: str = MODEL) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": model,
        "server.address": server.host,
        "server.port": server.port,
    }
