from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

from opentelemetry_instrumentation_llm import GoogleGenAIInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import instrument_fixture

API_KEY = "AIza-test-THIS-KEY-MUST-NEVER-BE-RECORDED-0123456789"
VERTEX_TOKEN = "ya29.test-THIS-TOKEN-MUST-NEVER-BE-RECORDED"
MODEL = "gemini-test-flash"  # not in the price catalogue: no cost attributes to account for

instrument = instrument_fixture(GoogleGenAIInstrumentor)


@pytest.fixture
def instrumented(instrument: Any) -> GoogleGenAIInstrumentor:
    return instrument()


def gemini_client(server: FakeLLMServer) -> genai.Client:
    return genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=server.url))


def vertex_client(server: FakeLLMServer) -> genai.Client:
    """Vertex AI mode on loopback: a base URL override plus OAuth credentials that already hold a token
    (so google-auth never refreshes over the network)."""
    return genai.Client(
        vertexai=True,
        project="test-project",
        location="us-central1",
        credentials=Credentials(token=VERTEX_TOKEN),
        http_options=types.HttpOptions(base_url=server.url),
    )


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any) -> Iterator[genai.Client]:
    c = gemini_client(fake_server)
    yield c
    c.close()


@pytest.fixture
async def aclient(fake_server: FakeLLMServer, fake: Any) -> AsyncIterator[Any]:
    """``client.aio``: the async surface (each test runs in its own event loop, so its own client)."""
    c = gemini_client(fake_server)
    yield c.aio
    await c.aio.aclose()
    c.close()


def base_attributes(
    server: FakeLLMServer, model: str = MODEL, operation: str = "generate_content", provider: str = "gcp.gemini"
) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "server.address": server.host,
        "server.port": server.port,
    }


def words(text: str) -> int:
    return len(text.split())
