"""Mistral chat (non-streaming) and embeddings, sync and async: attributes, metrics, content, errors,
and uninstrumentation. The real ``mistralai`` SDK talks HTTP to the fake server."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from mistralai.client import Mistral, errors, models
from mistralai.client.chat import Chat
from mistralai.client.embeddings import Embeddings
from mistralai.client.types import UNSET
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, everything_exported, fingerprint_attribute
from tests.providers.mistralai.conftest import API_KEY, MODEL, base_attributes, server_url

PROMPT = "Name three primary colours please"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}]
# The prompt fingerprint these calls' system instructions give (llm.prompt.fingerprint).
TEMPLATE = fingerprint_attribute("Be brief.")


def words(text: str) -> int:
    return len(text.split())


def prompt_words(messages: list[dict[str, Any]]) -> int:
    return sum(words(m["content"]) for m in messages)


def test_sync_complete_span_attributes_and_metrics(client, fake, fake_server, telemetry, instrumented):
    response = client.chat.complete(
        model=MODEL,
        messages=MESSAGES,
        temperature=0.3,
        top_p=0.9,
        max_tokens=64,
        stop=["\n\n"],
        random_seed=7,
        n=2,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        response_format={"type": "json_object"},
    )
    span = telemetry.span()
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    output_words = words(f"echo: {PROMPT}") * 2
    assert dict(span.attributes) == {
        **(base_attributes(fake_server) | TEMPLATE),
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.stop_sequences": ("\n\n",),
        "gen_ai.request.seed": 7,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.output.type": "json",
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": response.model,
        "gen_ai.response.finish_reasons": ("stop", "stop"),
        "gen_ai.usage.input_tokens": prompt_words(MESSAGES),
        "gen_ai.usage.output_tokens": output_words,
    }
    assert response.usage.completion_tokens == output_words
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": prompt_words(MESSAGES), "output": output_words}
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {
        **(base_attributes(fake_server) | TEMPLATE),
        "gen_ai.response.model": response.model,
    }
    assert telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK) == []
    # The request went out as the user wrote it.
    assert fake.exchanges[0].body["random_seed"] == 7 and "stream_options" not in fake.exchanges[0].body


async def test_async_complete(aclient, fake, fake_server, telemetry, instrumented):
    # UNSET is the SDK's "not given": passed explicitly, it is not a parameter value.
    response = await aclient.chat.complete_async(model=MODEL, messages=MESSAGES, max_tokens=32, top_p=UNSET)
    assert dict(telemetry.span().attributes) == {
        **(base_attributes(fake_server) | TEMPLATE),
        "gen_ai.request.max_tokens": 32,
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": response.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": prompt_words(MESSAGES),
        "gen_ai.usage.output_tokens": words(response.choices[0].message.content),
    }
    from opentelemetry_instrumentation_llm.providers.mistralai import chat_attributes

    assert chat_attributes({"top_p": UNSET, "stop": UNSET, "temperature": 0.0}) == {"gen_ai.request.temperature": 0.0}


@pytest.mark.parametrize(
    ("native", "expected"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("model_length", "length"),
        ("tool_calls", "tool_call"),
        ("error", "error"),
    ],
)
def test_finish_reasons_are_mapped(client, fake, telemetry, instrumented, native, expected):
    fake.push(Reply(finish_reason=native))
    assert client.chat.complete(model=MODEL, messages=MESSAGES).choices[0].finish_reason == native
    assert telemetry.span().attributes["gen_ai.response.finish_reasons"] == (expected,)


async def test_embeddings_sync_and_async(client, aclient, fake, fake_server, telemetry, instrumented):
    inputs = ["the quick brown fox", "jumps"]
    response = client.embeddings.create(
        model="mistral-embed", inputs=inputs, output_dimension=16, output_dtype="float", encoding_format="float"
    )
    assert len(response.data[0].embedding) == 16
    response_async = await aclient.embeddings.create_async(model="mistral-embed", inputs="one two three")
    first, second = telemetry.spans()
    assert first.name == "embeddings mistral-embed"
    assert dict(first.attributes) == {
        **base_attributes(fake_server, "mistral-embed", "embeddings"),
        "gen_ai.request.encoding_formats": ("float",),
        "gen_ai.embeddings.dimension.count": 16,
        "gen_ai.response.id": response.id,
        "gen_ai.response.model": response.model,
        "gen_ai.usage.input_tokens": sum(words(i) for i in inputs),
    }
    assert dict(second.attributes) == {
        **base_attributes(fake_server, "mistral-embed", "embeddings"),
        "gen_ai.embeddings.dimension.count": len(response_async.data[0].embedding),
        "gen_ai.response.id": response_async.id,
        "gen_ai.response.model": response_async.model,
        "gen_ai.usage.input_tokens": 3,
    }
    (input_tokens,) = telemetry.points(sc.METRIC_TOKEN_USAGE)  # embeddings have input tokens only
    assert input_tokens.attributes["gen_ai.token.type"] == "input"
    assert input_tokens.sum == sum(words(i) for i in inputs) + 3


def test_tool_calls_and_content_capture(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(tool_calls=[{"id": "D681PevKs", "name": "get_weather", "arguments": '{"city": "Paris"}'}]))
    messages = [
        models.SystemMessage(content="You are a weather bot."),
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Lyon?"},
                {"type": "image_url", "image_url": "data:image/png;base64,iVBOR"},
            ],
        },
        models.AssistantMessage(
            content="",
            tool_calls=[
                models.ToolCall(
                    id="abc123def", function=models.FunctionCall(name="get_weather", arguments={"city": "Lyon"})
                )
            ],
        ),
        models.ToolMessage(content="18C and sunny", tool_call_id="abc123def", name="get_weather"),
        {"role": "user", "content": "And in Paris?"},
    ]
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Current weather", "parameters": {"type": "object"}},
        }
    ]
    response = client.chat.complete(model=MODEL, messages=messages, tools=tools, tool_choice="auto")
    call = response.choices[0].message.tool_calls[0]
    attrs = telemetry.span().attributes
    assert decoded(attrs["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are a weather bot."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Weather in Lyon?"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBOR"},
            ],
        },
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "abc123def", "name": "get_weather", "arguments": {"city": "Lyon"}}],
        },
        {
            "role": "tool",
            "name": "get_weather",
            "parts": [{"type": "tool_call_response", "id": "abc123def", "response": "18C and sunny"}],
        },
        {"role": "user", "parts": [{"type": "text", "content": "And in Paris?"}]},
    ]
    assert decoded(attrs["gen_ai.tool.definitions"]) == [
        {"type": "function", "name": "get_weather", "description": "Current weather", "parameters": {"type": "object"}}
    ]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "id": call.id, "name": call.function.name, "arguments": {"city": "Paris"}}],
        }
    ]
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_call",)


def test_no_content_and_no_api_key_by_default(client, fake, telemetry, instrumented):
    fake.push(Reply(text="Red, yellow and blue."))
    client.chat.complete(
        model=MODEL,
        messages=MESSAGES,
        tools=[{"type": "function", "function": {"name": "secret_tool", "parameters": {}}}],
    )
    assert fake.exchanges[0].headers["authorization"] == f"Bearer {API_KEY}"  # the key was used...
    exported = everything_exported(telemetry)
    for secret in (PROMPT, "Be brief", "Red, yellow", "secret_tool", API_KEY):  # ...and never recorded
        assert secret not in exported
    assert telemetry.logs() == []


@pytest.mark.parametrize(
    ("status", "error", "exception", "error_type"),
    [
        (429, None, errors.SDKError, "429"),
        (503, None, errors.SDKError, "503"),
        (
            422,
            {"detail": [{"loc": ["body", "model"], "msg": "bad model", "type": "value_error"}]},
            errors.HTTPValidationError,
            "HTTPValidationError",
        ),
    ],
)
def test_http_errors(client, fake, fake_server, telemetry, instrument, status, error, exception, error_type):
    def call() -> BaseException:
        fake.push(Reply(status=status, error=error))
        with pytest.raises(exception) as raised:
            client.chat.complete(model=MODEL, messages=MESSAGES)
        return raised.value

    plain = call()
    instrument()
    observed = call()
    assert (type(observed), str(observed)) == (type(plain), str(plain))  # the user's exception, unchanged
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_type
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {**(base_attributes(fake_server) | TEMPLATE), "error.type": error_type}


class Colours(pydantic.BaseModel):
    colours: list[str]


def test_parse_is_traced_once_through_complete(client, fake, telemetry, instrumented):
    fake.push(Reply(text='{"colours": ["red", "yellow", "blue"]}'))
    parsed = client.chat.parse(response_format=Colours, model=MODEL, messages=MESSAGES)
    assert parsed.choices[0].message.parsed == Colours(colours=["red", "yellow", "blue"])
    span = telemetry.span()
    assert span.attributes["gen_ai.output.type"] == "json"
    assert span.attributes["gen_ai.response.id"] == parsed.id


def test_server_address_defaults_to_the_mistral_api():
    from opentelemetry_instrumentation_llm.providers import mistralai as adapter

    with Mistral(api_key=API_KEY) as default, Mistral(api_key=API_KEY, server="eu") as eu:
        assert adapter.parse_chat_request(default.chat, {"model": MODEL}).server_address == "api.mistral.ai"
        request = adapter.parse_chat_request(eu.chat, {"model": MODEL})
        assert (request.server_address, request.server_port) == ("api.eu.mistral.ai", 443)
        override = adapter.parse_chat_request(eu.chat, {"model": MODEL, "server_url": "http://gw.local:8080"})
        assert (override.server_address, override.server_port) == ("gw.local", 8080)


def test_uninstrument_restores_the_sdk(client, fake, telemetry, instrument):
    originals = {name: Chat.__dict__[name] for name in ("complete", "complete_async", "stream", "stream_async")}
    original_embeddings = Embeddings.__dict__["create"]
    instrumentor = instrument()
    assert all(Chat.__dict__[name] is not original for name, original in originals.items())
    instrumentor.uninstrument()
    assert all(Chat.__dict__[name] is original for name, original in originals.items())
    assert Embeddings.__dict__["create"] is original_embeddings
    client.chat.complete(model=MODEL, messages=MESSAGES)
    list(client.chat.stream(model=MODEL, messages=MESSAGES))
    assert telemetry.spans() == []


def test_cost_from_the_price_catalogue(client, fake, telemetry, instrument, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_COST", "true")
    instrument()
    fake.push(Reply(model=MODEL))  # a model the catalogue lists
    client.chat.complete(model=MODEL, messages=MESSAGES)
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.usage.cost.currency"] == "USD" and attrs["gen_ai.usage.cost.amount"] > 0


def test_instrumenting_before_the_sdk_is_imported(fake_server):
    """mistralai 2.x+ is a namespace package: the on-import patch must hook ``mistralai.client``."""
    import subprocess
    import sys

    script = f"""
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry_instrumentation_llm import instrument
spans = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(spans))
assert "mistralai" in instrument(tracer_provider=provider)
from mistralai.client import Mistral

with Mistral(api_key="k", server_url={server_url(fake_server)!r}) as client:
    client.chat.complete(model="m", messages=[{{"role": "user", "content": "hi"}}])
print([span.name for span in spans.get_finished_spans()])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['chat m']"
