from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ollama
import pytest

from opentelemetry_instrumentation_llm import OllamaInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import instrument_fixture

MODEL = "llama3.2"

instrument = instrument_fixture(OllamaInstrumentor)


@pytest.fixture
def instrumented(instrument: Any) -> OllamaInstrumentor:
    return instrument()


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any) -> Iterator[ollama.Client]:
    with ollama.Client(host=fake_server.url) as c:
        yield c


@pytest.fixture
async def aclient(fake_server: FakeLLMServer, fake: Any) -> Any:
    c = ollama.AsyncClient(host=fake_server.url)
    yield c
    await c._client.aclose()


@pytest.fixture
def default_client(fake_server: FakeLLMServer, fake: Any) -> Iterator[Any]:
    """The client behind ``ollama.chat(...)`` and friends, pointed at the fake for one test."""
    default = ollama._client  # the package attribute is the default Client instance
    original = default._client.base_url
    default._client.base_url = fake_server.url
    yield default
    default._client.base_url = original


def base_attributes(server: FakeLLMServer, operation: str = "chat", model: str = MODEL) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "ollama",
        "gen_ai.request.model": model,
        "server.address": server.host,
        "server.port": server.port,
    }
