"""Responses API, legacy completions, embeddings, and the with_raw_response / with_streaming_response paths."""

from __future__ import annotations

import gc

import openai
import pydantic
import pytest
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, fingerprint_attribute
from tests.providers.openai.conftest import base_attributes

# --------------------------------------------------------------------------- Responses API


def test_responses_create(client, fake, fake_server, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(
        Reply(
            text="Bonjour.",
            usage={
                "input_tokens": 50,
                "output_tokens": 20,
                "total_tokens": 70,
                "input_tokens_details": {"cached_tokens": 32, "cache_write_tokens": 8},
                "output_tokens_details": {"reasoning_tokens": 12},
            },
        )
    )
    response = client.responses.create(
        model="gpt-5",
        input=[{"role": "user", "content": "Say hello in French"}],
        instructions="Be brief.",
        max_output_tokens=100,
        temperature=0.2,
        reasoning={"effort": "minimal"},
        text={"format": {"type": "json_object"}},
        previous_response_id="resp_prev",
        service_tier="priority",
        conversation="conv_123",
        tools=[{"type": "function", "name": "translate", "parameters": {}}],
    )
    assert response.output_text == "Bonjour."
    span = telemetry.span()
    attrs = dict(span.attributes)
    content_keys = (
        sc.GEN_AI_INPUT_MESSAGES,
        sc.GEN_AI_OUTPUT_MESSAGES,
        sc.GEN_AI_SYSTEM_INSTRUCTIONS,
        sc.GEN_AI_TOOL_DEFINITIONS,
    )
    content = {k: attrs.pop(k) for k in list(attrs) if k in content_keys}
    assert span.name == "chat gpt-5"
    assert attrs == {
        **base_attributes(fake_server, model="gpt-5"),
        **fingerprint_attribute("Be brief.", [{"type": "function", "name": "translate", "parameters": {}}]),
        "openai.api.type": "responses",
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.reasoning.level": "minimal",
        "gen_ai.output.type": "json",
        "gen_ai.request.previous_response.id": "resp_prev",
        "openai.request.service_tier": "priority",
        "gen_ai.conversation.id": "conv_123",
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": response.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 50,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.cache_read.input_tokens": 32,
        "gen_ai.usage.cache_write.input_tokens": 8,
        "gen_ai.usage.reasoning.output_tokens": 12,
    }
    assert decoded(content[sc.GEN_AI_SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    assert decoded(content[sc.GEN_AI_INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Say hello in French"}]}
    ]
    assert decoded(content[sc.GEN_AI_OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Bonjour."}], "finish_reason": "stop"}
    ]
    assert decoded(content[sc.GEN_AI_TOOL_DEFINITIONS]) == [{"type": "function", "name": "translate", "parameters": {}}]


def test_responses_function_call_and_incomplete(client, fake, telemetry, instrumented):
    fake.push(
        Reply(tool_calls=[{"id": "call_1", "name": "search", "arguments": "{}"}]),
        Reply(finish_reason="max_output_tokens"),
    )
    client.responses.create(model="gpt-5", input="find it")
    client.responses.create(model="gpt-5", input="write a long essay")
    reasons = [s.attributes["gen_ai.response.finish_reasons"] for s in telemetry.spans()]
    assert reasons == [("tool_call",), ("length",)]


def test_responses_stream_and_helper(client, fake, telemetry, instrumented):
    fake.push(Reply(text="a b c d", chunks=4), Reply(text="e f g h", chunks=4))
    events = list(client.responses.create(model="gpt-5", input="stream it", stream=True))
    final = events[-1].response
    with client.responses.stream(model="gpt-5", input="stream it again") as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        helper_final = stream.get_final_response()
    assert text == "e f g h"
    first, second = telemetry.spans()
    for span, response in ((first, final), (second, helper_final)):
        assert span.attributes["gen_ai.request.stream"] is True
        assert span.attributes["gen_ai.response.id"] == response.id
        assert span.attributes["gen_ai.usage.output_tokens"] == response.usage.output_tokens
    per_chunk = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert sum(p.count for p in per_chunk) == 2 * (4 - 1)  # text deltas are the output chunks


def test_responses_stream_error_event_fails_the_span(client, fake, telemetry, instrumented):
    fake.push(Reply(text="a b", chunks=2, stream_error={"code": "server_error", "message": "boom", "param": None}))
    for _ in client.responses.create(model="gpt-5", input="x", stream=True):
        pass
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "server_error"


class Greeting(pydantic.BaseModel):
    text: str


def test_responses_parse(client, fake, telemetry, instrumented):
    fake.push(Reply(text='{"text": "hi"}'))
    response = client.responses.parse(model="gpt-5", input="greet", text_format=Greeting)
    assert response.output_parsed == Greeting(text="hi")
    assert telemetry.span().attributes["gen_ai.output.type"] == "json"


async def test_async_responses_stream(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text="x y", chunks=2))
    stream = await aclient.responses.create(model="gpt-5", input="go", stream=True)
    events = [e async for e in stream]
    assert telemetry.span().attributes["gen_ai.response.id"] == events[-1].response.id


# --------------------------------------------------------------------------- legacy completions and embeddings


def test_legacy_completions(client, fake, fake_server, telemetry, instrumented):
    result = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Once upon a time", max_tokens=5, temperature=0
    )
    stream = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Count", stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    plain, streamed = telemetry.spans()
    assert plain.name == "text_completion gpt-3.5-turbo-instruct"
    assert dict(plain.attributes) == {
        **base_attributes(fake_server, model="gpt-3.5-turbo-instruct", operation="text_completion"),
        "gen_ai.request.max_tokens": 5,
        "gen_ai.request.temperature": 0,
        "gen_ai.response.id": result.id,
        "gen_ai.response.model": result.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": result.usage.completion_tokens,
    }
    assert streamed.attributes["gen_ai.usage.output_tokens"] == chunks[-1].usage.completion_tokens
    assert streamed.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_embeddings(client, fake_server, telemetry, instrumented):
    result = client.embeddings.create(
        model="text-embedding-3-small", input=["hello world", "bye"], dimensions=16, encoding_format="float"
    )
    assert len(result.data[0].embedding) == 16
    span = telemetry.span()
    assert span.name == "embeddings text-embedding-3-small"
    assert dict(span.attributes) == {
        **base_attributes(fake_server, model="text-embedding-3-small", operation="embeddings"),
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.embeddings.dimension.count": 16,
        "gen_ai.response.model": result.model,
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
    }
    tokens = telemetry.points(sc.METRIC_TOKEN_USAGE)
    assert [(p.attributes["gen_ai.token.type"], p.sum) for p in tokens] == [("input", 3)]


def test_embedding_dimension_from_the_response_when_not_requested(client, telemetry, instrumented):
    result = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert telemetry.span().attributes["gen_ai.embeddings.dimension.count"] == len(result.data[0].embedding)


# --------------------------------------------------------------------------- raw responses


def test_with_raw_response_keeps_headers_and_parse(client, fake, telemetry, instrumented):
    fake.push(Reply(headers={"x-request-id": "req_raw_1"}))
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert raw.headers["x-request-id"] == "req_raw_1"
    assert raw.http_response.status_code == 200
    completion = raw.parse()
    assert raw.parse() is completion  # memoised, like the SDK's own cache
    assert completion.choices[0].message.content == "echo: x"
    span = telemetry.span()
    assert span.attributes["gen_ai.response.id"] == completion.id
    assert span.attributes["gen_ai.usage.output_tokens"] == completion.usage.completion_tokens


def test_with_raw_response_never_parsed_still_ends(client, telemetry, instrumented):
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert raw.status_code == 200
    del raw
    gc.collect()
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.id" not in span.attributes


def test_with_raw_response_streaming(client, fake, telemetry, instrumented):
    fake.push(Reply(text="p q r", chunks=3))
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
    )
    stream = raw.parse()
    assert isinstance(stream, openai.Stream)
    assert raw.parse() is stream
    assert telemetry.spans() == []
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "p q r"
    assert telemetry.span().attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_with_streaming_response(client, fake, telemetry, instrumented):
    fake.push(Reply(text="u v", chunks=2))
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}], stream=True
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = list(response.parse())
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert telemetry.span().attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_with_streaming_response_read_raw_lines_only(client, telemetry, instrumented):
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}]
    ) as response:
        body = response.read()
        assert telemetry.spans() == []  # the span belongs to the response until it is closed
    assert b"chatcmpl-fake0001" in body
    assert len(telemetry.spans()) == 1  # closed by the context manager, not left to the collector


async def test_async_with_raw_and_streaming_response(aclient, fake, telemetry, instrumented):
    raw = await aclient.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}]
    )
    completion = raw.parse()
    async with aclient.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "y"}]
    ) as response:
        second = await response.parse()
    first_span, second_span = telemetry.spans()
    assert first_span.attributes["gen_ai.response.id"] == completion.id
    assert second_span.attributes["gen_ai.usage.input_tokens"] == second.usage.prompt_tokens


def test_raw_response_error_still_raises(client, fake, telemetry, instrumented):
    fake.push(Reply(status=429))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert telemetry.span().attributes["error.type"] == "RateLimitError"
