from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from opentelemetry_instrumentation_llm import agents
from opentelemetry_instrumentation_llm.config import ContentCapture, ContentSettings
from opentelemetry_instrumentation_llm.instrumentor import OpenAIInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import Telemetry, instrument_fixture

instrument = instrument_fixture(OpenAIInstrumentor)


@pytest.fixture
def record(telemetry: Telemetry) -> Iterator[Callable[..., None]]:
    """``record(capture=...)``: the hand-written-loop API records into the test's providers."""

    def _configure(capture: ContentCapture = ContentCapture.NO_CONTENT) -> None:
        agents.configure(**telemetry.providers, content=ContentSettings(capture=capture, emit_event=capture.on_event))

    _configure()
    yield _configure
    agents._recorder = None


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any, instrument: Callable[..., Any]) -> Iterator[openai.OpenAI]:
    instrument()
    with openai.OpenAI(api_key="sk-test-agents", base_url=fake_server.openai_base_url, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(fake_server: FakeLLMServer, fake: Any, instrument: Callable[..., Any]) -> Any:
    instrument()
    c = openai.AsyncOpenAI(api_key="sk-test-agents", base_url=fake_server.openai_base_url, max_retries=0)
    yield c
    await c.close()
