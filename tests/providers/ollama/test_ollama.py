"""Ollama: chat, generate, embed; NDJSON streams; module-level helpers; errors; content."""

from __future__ import annotations

import gc
import json

import ollama
import pytest
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, fingerprint_attribute
from tests.providers.ollama.conftest import MODEL, base_attributes

# The prompt fingerprint these calls' system instructions give (llm.prompt.fingerprint).
TEMPLATE = fingerprint_attribute("Answer in one word.")

MESSAGES = [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Sky colour today"}]
PROMPT_WORDS = 4 + 3


def words(text: str) -> int:
    return len(text.split())


def test_chat_with_positional_arguments(client, fake, fake_server, telemetry, instrumented):
    response = client.chat(
        MODEL,
        MESSAGES,
        options={"temperature": 0.1, "top_k": 20, "num_predict": 50, "seed": 3, "stop": ["\n"]},
        format="json",
    )
    span = telemetry.span()
    assert span.name == f"chat {MODEL}"
    assert dict(span.attributes) == {
        **(base_attributes(fake_server) | TEMPLATE),
        "gen_ai.request.temperature": 0.1,
        "gen_ai.request.top_k": 20,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.seed": 3,
        "gen_ai.request.stop_sequences": ("\n",),
        "gen_ai.output.type": "json",
        "gen_ai.response.model": response.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": PROMPT_WORDS,
        "gen_ai.usage.output_tokens": words(response.message.content),
    }
    tokens = {p.attributes[sc.GEN_AI_TOKEN_TYPE]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": PROMPT_WORDS, "output": response.eval_count}


def test_chat_stream_uses_the_final_chunk(client, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(text="r e d a n d b l u e", chunks=10))
    chunks = list(client.chat(model=MODEL, messages=MESSAGES, stream=True))
    assert chunks[-1].done and chunks[-1].eval_count == 10
    span = telemetry.span()
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.usage.output_tokens"] == 10
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == 10 - 1  # the final, empty chunk carries no output
    (first,) = telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.count == 1


async def test_async_chat_and_stream(aclient, fake, telemetry, instrumented):
    response = await aclient.chat(model=MODEL, messages=MESSAGES)
    fake.push(Reply(text="one two three", chunks=3))
    stream = await aclient.chat(model=MODEL, messages=MESSAGES, stream=True)
    text = "".join([chunk.message.content async for chunk in stream])
    assert text == "one two three"
    first, second = telemetry.spans()
    assert first.attributes["gen_ai.usage.output_tokens"] == words(response.message.content)
    assert second.attributes["gen_ai.usage.output_tokens"] == 3 and second.attributes["gen_ai.request.stream"]


async def test_async_stream_closed_early(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text="a b c d e f", chunks=6))
    stream = await aclient.chat(model=MODEL, messages=MESSAGES, stream=True)
    async for _ in stream:
        break
    await stream.aclose()
    span = telemetry.span()
    assert "gen_ai.usage.output_tokens" not in span.attributes and span.status.status_code is StatusCode.UNSET


def test_generate_is_a_text_completion(client, fake, fake_server, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    response = client.generate(MODEL, "Why is the sky blue", system="Be terse.")
    span = telemetry.span()
    assert span.name == f"text_completion {MODEL}"
    assert span.attributes["gen_ai.usage.input_tokens"] == 5 + 2
    assert decoded(span.attributes["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be terse."}]
    assert decoded(span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Why is the sky blue"}]}
    ]
    assert decoded(span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": response.response}], "finish_reason": "stop"}
    ]


def test_generate_stream(client, fake, telemetry, instrumented):
    fake.push(Reply(text="x y z", chunks=3))
    pieces = [chunk.response for chunk in client.generate(model=MODEL, prompt="go", stream=True)]
    assert "".join(pieces) == "x y z"
    assert telemetry.span().attributes["gen_ai.usage.output_tokens"] == 3


def test_tool_calls_and_content_capture(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    tools = [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    fake.push(Reply(tool_calls=[{"name": "weather", "arguments": '{"city": "Oslo"}'}]))
    response = client.chat(model=MODEL, messages=MESSAGES, tools=tools)
    assert response.message.tool_calls[0].function.arguments == {"city": "Oslo"}
    span = telemetry.span()
    output = decoded(span.attributes["gen_ai.output.messages"])
    assert output[0]["parts"] == [{"type": "tool_call", "name": "weather", "arguments": {"city": "Oslo"}}]
    definitions = decoded(span.attributes["gen_ai.tool.definitions"])
    assert definitions[0]["name"] == "weather" and definitions[0]["parameters"]["properties"] == {
        "city": {"type": "string"}
    }
    assert [m["role"] for m in decoded(span.attributes["gen_ai.input.messages"])] == ["system", "user"]


def test_no_content_by_default(client, fake, telemetry, instrumented):
    client.chat(model=MODEL, messages=MESSAGES)
    assert "Sky colour" not in json.dumps(dict(telemetry.span().attributes), default=str)


def test_embed_and_legacy_embeddings(client, fake, fake_server, telemetry, instrumented):
    response = client.embed(MODEL, ["first text here", "second"], dimensions=16)
    client.embeddings(model=MODEL, prompt="legacy call")
    embed, legacy = telemetry.spans()
    assert dict(embed.attributes) == {
        **base_attributes(fake_server, "embeddings"),
        "gen_ai.embeddings.dimension.count": 16,
        "gen_ai.response.model": response.model,
        "gen_ai.usage.input_tokens": 3 + 1,
    }
    assert legacy.name == f"embeddings {MODEL}"
    assert legacy.attributes["gen_ai.embeddings.dimension.count"] == 8


def test_module_level_helpers_are_traced_once(default_client, fake, fake_server, telemetry, instrumented):
    response = ollama.chat(model=MODEL, messages=MESSAGES)
    span = telemetry.span()
    assert span.attributes["server.port"] == fake_server.port
    assert span.attributes["gen_ai.usage.output_tokens"] == words(response.message.content)


def test_model_not_found_error(client, fake, telemetry, instrumented):
    fake.push(Reply(status=404, error={"error": "model 'nope' not found"}))
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="nope", messages=MESSAGES)
    assert caught.value.status_code == 404
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR and span.attributes["error.type"] == "404"
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert duration.attributes["error.type"] == "404"


def test_error_line_inside_a_stream(client, fake, telemetry, instrumented):
    fake.push(Reply(text="a b c", chunks=3, stream_error={"message": "GPU out of memory"}))
    with pytest.raises(ollama.ResponseError, match="GPU out of memory"):
        for _ in client.chat(model=MODEL, messages=MESSAGES, stream=True):
            pass
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR and span.attributes["error.type"] == "ResponseError"


def test_stream_cut_midway(client, fake, telemetry, instrumented):
    fake.push(Reply(text="a b c d e f", chunks=6, cut_after=2))
    with pytest.raises(Exception) as caught:
        for _ in client.chat(model=MODEL, messages=MESSAGES, stream=True):
            pass
    span = telemetry.span()
    assert span.attributes["error.type"] == type(caught.value).__name__


def test_unconsumed_stream_ends_its_span_when_dropped(client, fake, telemetry, instrumented):
    stream = client.chat(model=MODEL, messages=MESSAGES, stream=True)
    next(stream)
    del stream
    gc.collect()
    assert len(telemetry.spans()) == 1


def test_uninstrument_restores_class_and_module_helpers(client, telemetry, instrument):
    instrumentor = instrument()
    assert hasattr(ollama.chat, "__wrapped__")
    instrumentor.uninstrument()
    assert not hasattr(ollama.chat, "__wrapped__")
    assert not hasattr(ollama.Client.__dict__["chat"], "__wrapped__")
    client.chat(model=MODEL, messages=MESSAGES)
    assert telemetry.spans() == []
