from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from opentelemetry_instrumentation_llm.instrumentor import OpenAIInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import instrument_fixture

API_KEY = "sk-test-THIS-KEY-MUST-NEVER-BE-RECORDED-0123456789"


instrument = instrument_fixture(OpenAIInstrumentor)


@pytest.fixture
def instrumented(instrument: Callable[..., OpenAIInstrumentor]) -> OpenAIInstrumentor:
    return instrument()


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(fake_server: FakeLLMServer, fake: Any) -> Any:
    c = openai.AsyncOpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, max_retries=0)
    yield c
    await c.close()


def base_attributes(server: FakeLLMServer, model: str = "gpt-4o", operation: str = "chat") -> dict[str, Any]:
    return {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "server.address": server.host,
        "server.port": server.port,
    }
