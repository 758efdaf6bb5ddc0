from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import cohere
import pytest

from opentelemetry_instrumentation_llm import CohereInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import instrument_fixture

API_KEY = "co-test-THIS-KEY-MUST-NEVER-BE-RECORDED-0123456789"
MODEL = "command-a-03-2025"

instrument = instrument_fixture(CohereInstrumentor)


@pytest.fixture(autouse=True)
def _no_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cohere list prices apply on any server: keep costs off so attribute sets are exact."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_COST", "false")


@pytest.fixture
def instrumented(instrument: Any) -> CohereInstrumentor:
    return instrument()  # type: ignore[no-any-return]


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any) -> Iterator[cohere.ClientV2]:
    with cohere.ClientV2(api_key=API_KEY, base_url=fake_server.url, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(fake_server: FakeLLMServer, fake: Any) -> Any:
    async with cohere.AsyncClientV2(api_key=API_KEY, base_url=fake_server.url, max_retries=0) as c:
        yield c


def base_attributes(server: FakeLLMServer, model: str = MODEL, operation: str = "chat") -> dict[str, Any]:
    return {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "cohere",
        "gen_ai.request.model": model,
        "server.address": server.host,
        "server.port": server.port,
    }
