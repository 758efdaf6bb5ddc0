"""Token counts are ints on every path, whatever an adapter read off the wire (issue 13, item 10).

The conventions type the usage attributes and the token histogram as int. Providers sometimes send
JSON floats (Bedrock Titan sends ``28.0``); the core, not each adapter, makes them ints, and drops
what is not a whole number rather than record it wrongly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from opentelemetry_instrumentation_llm import OpenAIInstrumentor, semconv as sc
from opentelemetry_instrumentation_llm._core.recorder import integral_usage
from opentelemetry_instrumentation_llm._core.records import Usage
from opentelemetry_instrumentation_llm.testing import FakeLLMServer, Reply
from tests.conftest import instrument_fixture

instrument = instrument_fixture(OpenAIInstrumentor)


@pytest.fixture
def client(fake_server: FakeLLMServer, fake: Any) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=0) as c:
        yield c


def test_integral_floats_become_ints_and_fractions_are_dropped() -> None:
    usage = integral_usage(
        Usage(
            input_tokens=28.0,
            output_tokens=3.5,
            cache_read_tokens=4,  # type: ignore[arg-type]
            cache_write_tokens=True,
            reasoning_tokens="7",
        )
    )  # type: ignore[arg-type]
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (28, None, 4)
    assert type(usage.input_tokens) is int
    assert usage.cache_write_tokens is None and usage.reasoning_tokens is None


def test_a_provider_sending_float_counts_records_ints(client, fake, telemetry, instrument, caplog) -> None:
    instrument()
    fake.push(Reply(text="Paris.", usage={"prompt_tokens": 28.0, "completion_tokens": 2.5, "total_tokens": 30.5}))
    with caplog.at_level(logging.DEBUG, logger="opentelemetry_instrumentation_llm"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Capital of France?"}])

    attributes = telemetry.span().attributes
    assert attributes[sc.GEN_AI_USAGE_INPUT_TOKENS] == 28
    assert type(attributes[sc.GEN_AI_USAGE_INPUT_TOKENS]) is int
    assert sc.GEN_AI_USAGE_OUTPUT_TOKENS not in attributes  # 2.5 tokens is not a count: dropped, not rounded
    points = telemetry.points(sc.METRIC_TOKEN_USAGE)
    assert [(p.attributes[sc.GEN_AI_TOKEN_TYPE], p.sum, type(p.sum)) for p in points] == [("input", 28, int)]
    assert "not an integer" in caplog.text
