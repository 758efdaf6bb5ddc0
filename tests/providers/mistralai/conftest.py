from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mistralai.client import Mistral

from opentelemetry_instrumentation_llm import MistralAIInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import instrument_fixture

API_KEY = "mistral-test-THIS-KEY-MUST-NEVER-BE-RECORDED-0123456789"
MODEL = "mistral-small-latest"

instrument = instrument_fixture(MistralAIInstrumentor)


@pytest.fixture(autouse=True)
def _no_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mistral list prices apply on any server: keep costs off so attribute sets are exact."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_COST", "false")


@pytest.fixture
def instrumented(instrument: Any) -> MistralAIInstrumentor:
    return instrument()  # type: ignore[no-any-return]


def server_url(server: FakeLLMServer) -> str:
    return f"{server.url}/mistral"


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any) -> Iterator[Mistral]:
    with Mistral(api_key=API_KEY, server_url=server_url(fake_server)) as c:
        yield c


@pytest.fixture
async def aclient(fake_server: FakeLLMServer, fake: Any) -> Any:
    async with Mistral(api_key=API_KEY, server_url=server_url(fake_server)) as c:
        yield c


def base_attributes(server: FakeLLMServer, model: str = MODEL, operation: str = "chat") -> dict[str, Any]:
    return {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.request.model": model,
        "server.address": server.host,
        "server.port": server.port,
    }
