from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import groq
import pytest

from opentelemetry_instrumentation_llm import GroqInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import instrument_fixture

API_KEY = "gsk_test_THIS_KEY_MUST_NEVER_BE_RECORDED_0123456789"
MODEL = "llama-3.3-70b-versatile"

instrument = instrument_fixture(GroqInstrumentor)


@pytest.fixture
def instrumented(instrument: Any) -> GroqInstrumentor:
    return instrument()


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any) -> Iterator[groq.Groq]:
    # Groq's base URL is https://api.groq.com; the SDK appends /openai/v1/... itself.
    with groq.Groq(api_key=API_KEY, base_url=fake_server.url, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(fake_server: FakeLLMServer, fake: Any) -> Any:
    c = groq.AsyncGroq(api_key=API_KEY, base_url=fake_server.url, max_retries=0)
    yield c
    await c.close()


def base_attributes(server: FakeLLMServer, model: str = MODEL) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "groq",
        "gen_ai.request.model": model,
        "server.address": server.host,
        "server.port": server.port,
    }
