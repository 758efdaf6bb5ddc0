"""LiteLLM: the routed provider, one span per call with the underlying SDK instrumented too, streams."""

from __future__ import annotations

import json

import litellm  # tests/conftest.py has set LITELLM_LOCAL_MODEL_COST_MAP: no network at import
import pytest
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import AnthropicInstrumentor, OpenAIInstrumentor, semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded
from tests.providers.litellm.conftest import API_KEY

MESSAGES = [{"role": "user", "content": "Summarise the plot of Hamlet"}]
PROMPT_WORDS = 5


def words(text: str) -> int:
    return len(text.split())


def openai_call(server, **kwargs):
    return litellm.completion(
        model="openai/gpt-4o", messages=MESSAGES, api_base=server.openai_base_url, api_key=API_KEY, **kwargs
    )


def test_openai_route(fake, fake_server, telemetry, instrumented):
    response = openai_call(fake_server, temperature=0.3, max_tokens=40)
    span = telemetry.span()
    assert span.name == "chat gpt-4o"  # the model without LiteLLM's routing prefix
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": fake_server.host,
        "server.port": fake_server.port,
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.max_tokens": 40,
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": response.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": PROMPT_WORDS,
        "gen_ai.usage.output_tokens": words(response.choices[0].message.content),
    }
    tokens = {p.attributes[sc.GEN_AI_TOKEN_TYPE]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": PROMPT_WORDS, "output": response.usage.completion_tokens}


def test_anthropic_route_reports_the_routed_provider(fake, fake_server, telemetry, instrumented):
    response = litellm.completion(
        model="anthropic/claude-opus-4-6",
        messages=MESSAGES,
        max_tokens=64,
        api_base=fake_server.anthropic_base_url,
        api_key=API_KEY,
        top_k=5,
    )
    span = telemetry.span()
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    assert span.attributes["gen_ai.request.model"] == "claude-opus-4-6"
    assert span.attributes["gen_ai.request.top_k"] == 5
    assert span.attributes["gen_ai.usage.output_tokens"] == response.usage.completion_tokens
    assert fake.exchanges[-1].path.endswith("/messages")  # LiteLLM really spoke Anthropic's API


def test_one_span_when_the_underlying_sdks_are_instrumented_too(fake, fake_server, telemetry, instrumented):
    others = [OpenAIInstrumentor(), AnthropicInstrumentor()]
    for other in others:
        other.instrument(**telemetry.providers)
    try:
        openai_call(fake_server)
        litellm.completion(
            model="anthropic/claude-opus-4-6",
            messages=MESSAGES,
            max_tokens=64,
            api_base=fake_server.anthropic_base_url,
            api_key=API_KEY,
        )
    finally:
        for other in others:
            other.uninstrument()
    spans = telemetry.spans()
    assert [s.instrumentation_scope.name for s in spans] == ["opentelemetry_instrumentation_llm.litellm"] * 2
    assert len(telemetry.points(sc.METRIC_OPERATION_DURATION)) == 2  # one point per provider


def test_stream_with_usage(fake, fake_server, telemetry, instrumented):
    fake.push(Reply(text="to be or not to be", chunks=6))
    stream = openai_call(fake_server, stream=True, stream_options={"include_usage": True})
    assert isinstance(stream, litellm.CustomStreamWrapper)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "to be or not to be"
    span = telemetry.span()
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] == 6
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT_WORDS
    (first,) = telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.count == 1
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count >= 5  # LiteLLM may re-chunk, but every output chunk after the first is timed


async def test_acompletion_and_async_stream(fake, fake_server, telemetry, instrumented):
    response = await litellm.acompletion(
        model="openai/gpt-4o", messages=MESSAGES, api_base=fake_server.openai_base_url, api_key=API_KEY
    )
    fake.push(Reply(text="a b c", chunks=3))
    stream = await litellm.acompletion(
        model="openai/gpt-4o", messages=MESSAGES, stream=True, api_base=fake_server.openai_base_url, api_key=API_KEY
    )
    pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(pieces) == "a b c"
    first, second = telemetry.spans()
    assert first.attributes["gen_ai.response.id"] == response.id
    assert second.attributes["gen_ai.request.stream"] is True
    assert second.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_positional_arguments_and_content_capture(fake, fake_server, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    litellm.completion("openai/gpt-4o", MESSAGES, api_base=fake_server.openai_base_url, api_key=API_KEY)
    span = telemetry.span()
    assert span.attributes["gen_ai.request.model"] == "gpt-4o"
    assert decoded(span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Summarise the plot of Hamlet"}]}
    ]
    assert decoded(span.attributes["gen_ai.output.messages"])[0]["role"] == "assistant"


def test_no_content_and_no_key_by_default(fake, fake_server, telemetry, instrumented):
    openai_call(fake_server)
    dumped = json.dumps(dict(telemetry.span().attributes), default=str)
    assert "Hamlet" not in dumped and API_KEY not in dumped


def test_embedding(fake, fake_server, telemetry, instrumented):
    response = litellm.embedding(
        model="openai/text-embedding-3-small",
        input=["one two", "three"],
        api_base=fake_server.openai_base_url,
        api_key=API_KEY,
    )
    span = telemetry.span()
    assert span.name == "embeddings text-embedding-3-small"
    assert span.attributes["gen_ai.provider.name"] == "openai"
    assert span.attributes["gen_ai.usage.input_tokens"] == response.usage.prompt_tokens == 3


def test_provider_error_propagates_unchanged(fake, fake_server, telemetry, instrumented):
    fake.push(Reply(status=429))
    with pytest.raises(litellm.RateLimitError) as caught:
        openai_call(fake_server, num_retries=0)
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == type(caught.value).__name__ == "RateLimitError"


def test_uninstrument_restores_the_functions(fake, fake_server, telemetry, instrument):
    original = litellm.completion
    instrumentor = instrument()
    assert litellm.completion is not original
    instrumentor.uninstrument()
    assert litellm.completion is original
    openai_call(fake_server)
    assert telemetry.spans() == []
