"""Groq: chat completions (sync, async, streaming with x_groq usage), embeddings, errors, content."""

from __future__ import annotations

import gc
import json

import groq
import pytest
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, fingerprint_attribute
from tests.providers.groq.conftest import API_KEY, MODEL, base_attributes

# The prompt fingerprint these calls' system instructions give (llm.prompt.fingerprint).
TEMPLATE = fingerprint_attribute("Be brief.")

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name three colours please"}]
PROMPT_WORDS = 2 + 4  # the fake counts whitespace-separated words of every message


def words(text: str) -> int:
    return len(text.split())


def test_chat_span_and_metrics(client, fake, fake_server, telemetry, instrumented):
    response = client.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        temperature=0.2,
        top_p=0.9,
        max_completion_tokens=64,
        seed=7,
        stop=["END"],
        response_format={"type": "json_object"},
    )
    text = response.choices[0].message.content
    span = telemetry.span()
    assert span.name == f"chat {MODEL}"
    assert dict(span.attributes) == {
        **(base_attributes(fake_server) | TEMPLATE),
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.output.type": "json",
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": response.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": PROMPT_WORDS,
        "gen_ai.usage.output_tokens": words(text),
    }
    assert not any(key.startswith("openai.") for key in span.attributes)  # Groq is not OpenAI
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert duration.count == 1 and duration.attributes[sc.GEN_AI_PROVIDER_NAME] == "groq"
    tokens = {p.attributes[sc.GEN_AI_TOKEN_TYPE]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": PROMPT_WORDS, "output": words(text)}


async def test_async_chat(aclient, fake, fake_server, telemetry, instrumented):
    response = await aclient.chat.completions.create(model=MODEL, messages=MESSAGES)
    span = telemetry.span()
    assert span.attributes["gen_ai.response.id"] == response.id
    assert span.attributes["gen_ai.usage.output_tokens"] == words(response.choices[0].message.content)


def test_stream_usage_from_the_x_groq_envelope(client, fake, fake_server, telemetry, instrumented):
    text = "one two three four five six seven eight"
    fake.push(Reply(text=text, chunks=8))
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    assert isinstance(stream, groq.Stream)
    chunks = list(stream)
    assert chunks[-1].x_groq.usage.completion_tokens == 8  # the fake sends what Groq sends
    span = telemetry.span()
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.usage.input_tokens"] == PROMPT_WORDS
    assert span.attributes["gen_ai.usage.output_tokens"] == 8
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    output_chunks = sum(1 for c in chunks if c.choices)
    assert per_chunk.count == output_chunks - 1
    (first,) = telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.count == 1
    tokens = {p.attributes[sc.GEN_AI_TOKEN_TYPE]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": PROMPT_WORDS, "output": 8}


async def test_async_stream_with_standard_usage_chunk(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text="a b c d", chunks=4))
    # The SDK has no stream_options argument; the API accepts it in the body.
    stream = await aclient.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, extra_body={"stream_options": {"include_usage": True}}
    )
    assert isinstance(stream, groq.AsyncStream)
    seen = [chunk async for chunk in stream]
    assert seen[-1].usage.completion_tokens == 4
    span = telemetry.span()
    assert span.attributes["gen_ai.usage.output_tokens"] == 4
    assert span.status.status_code is StatusCode.UNSET


def test_tool_calls_with_content_capture(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    fake.push(Reply(tool_calls=[{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'}]))
    response = client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=tools)
    assert response.choices[0].finish_reason == "tool_calls"
    span = telemetry.span()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert decoded(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}],
        }
    ]
    assert decoded(span.attributes["gen_ai.tool.definitions"])[0]["name"] == "get_weather"
    inputs = decoded(span.attributes["gen_ai.input.messages"])
    assert [m["role"] for m in inputs] == ["system", "user"]
    assert inputs[1]["parts"] == [{"type": "text", "content": "Name three colours please"}]


def test_no_content_and_no_key_by_default(client, fake, telemetry, instrumented):
    client.chat.completions.create(model=MODEL, messages=MESSAGES)
    span = telemetry.span()
    dumped = json.dumps(dict(span.attributes), default=str)
    assert "colours" not in dumped and API_KEY not in dumped
    assert not telemetry.events(sc.EVENT_INFERENCE_DETAILS) or all(
        "gen_ai.input.messages" not in e.attributes for e in telemetry.events(sc.EVENT_INFERENCE_DETAILS)
    )


def test_rate_limit_error_propagates_unchanged(client, fake, telemetry, instrumented):
    fake.push(Reply(status=429))
    with pytest.raises(groq.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RateLimitError" == type(caught.value).__name__
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert duration.attributes["error.type"] == "RateLimitError"


def test_stream_cut_midway_ends_the_span_with_the_error(client, fake, telemetry, instrumented):
    fake.push(Reply(text="a b c d e f", chunks=6, cut_after=3))
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    with pytest.raises(Exception) as caught:
        for _ in stream:
            pass
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == type(caught.value).__name__


def test_stream_dropped_early_ends_its_span_once(client, fake, telemetry, instrumented):
    fake.push(Reply(text="a b c d e f", chunks=6))
    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    next(iter(stream))
    stream.close()
    del stream
    gc.collect()
    span = telemetry.span()
    assert span.attributes["gen_ai.request.stream"] is True
    assert "gen_ai.usage.output_tokens" not in span.attributes  # it never arrived


def test_embeddings(client, fake, fake_server, telemetry, instrumented):
    response = client.embeddings.create(model="nomic-embed-text-v1_5", input=["hello there", "general kenobi"])
    span = telemetry.span()
    assert span.name == "embeddings nomic-embed-text-v1_5"
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert span.attributes["gen_ai.provider.name"] == "groq"
    assert span.attributes["gen_ai.usage.input_tokens"] == response.usage.prompt_tokens == 4
    assert span.attributes["gen_ai.embeddings.dimension.count"] == len(response.data[0].embedding)


def test_with_raw_response(client, telemetry, instrumented):
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    completion = raw.parse()
    assert raw.headers["content-type"].startswith("application/json")
    assert telemetry.span().attributes["gen_ai.response.id"] == completion.id


def test_uninstrument_restores_the_sdk(client, telemetry, instrument):
    from groq.resources.chat.completions import Completions

    instrumentor = instrument()
    assert hasattr(Completions.__dict__["create"], "__wrapped__")
    instrumentor.uninstrument()
    assert not hasattr(Completions.__dict__["create"], "__wrapped__")
    client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert telemetry.spans() == []
