"""Anthropic Messages, non-streaming: attributes, usage arithmetic, finish reasons, errors, content,
and the SDK's own built-in span (one call must yield one GenAI inference span)."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.providers import anthropic as adapter
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, everything_exported
from tests.providers.anthropic.conftest import API_KEY, MODEL, base_attributes

PROMPT = "Name three primary colours."


def create(client: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("max_tokens", 256)
    kwargs.setdefault("messages", [{"role": "user", "content": PROMPT}])
    return client.messages.create(**kwargs)


def test_span_attributes_and_usage_arithmetic(client, fake, fake_server, telemetry, instrumented):
    fake.push(
        Reply(
            text="Red, yellow, blue.",
            usage={
                "input_tokens": 100,
                "output_tokens": 20,
                "cache_read_input_tokens": 1000,
                "cache_creation_input_tokens": 50,
                "service_tier": "priority",
            },
        )
    )
    message = create(
        client,
        stop_sequences=["\n\nHuman:"],
        service_tier="auto",
        output_config={"effort": "high"},
        extra_body={"temperature": 0.3, "top_k": 40},
    )
    span = telemetry.span()
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        **base_attributes(fake_server),
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.stop_sequences": ("\n\nHuman:",),
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.reasoning.level": "high",
        "anthropic.request.service_tier": "auto",
        "gen_ai.response.id": message.id,
        "gen_ai.response.model": message.model,
        "gen_ai.response.finish_reasons": ("stop",),
        # Anthropic's input_tokens excludes cached input: the conventions' input is the sum of all three.
        "gen_ai.usage.input_tokens": 100 + 1000 + 50,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.cache_write.input_tokens": 50,
        "anthropic.response.service_tier": "priority",
    }
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": 1150, "output": 20}
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {**base_attributes(fake_server), "gen_ai.response.model": message.model}


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_call"),
        ("refusal", "content_filter"),
        ("pause_turn", "pause_turn"),
    ],
)
def test_finish_reasons_are_mapped(client, fake, telemetry, instrumented, stop_reason, expected):
    fake.push(Reply(finish_reason=stop_reason))
    assert create(client).stop_reason == stop_reason
    assert telemetry.span().attributes["gen_ai.response.finish_reasons"] == (expected,)


@pytest.mark.parametrize(
    ("status", "exception", "error_type"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (400, anthropic.BadRequestError, "invalid_request_error"),
    ],
)
def test_errors(client, fake, fake_server, telemetry, instrumented, status, exception, error_type):
    fake.push(Reply(status=status))
    with pytest.raises(exception):
        create(client)
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_type
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {**base_attributes(fake_server), "error.type": error_type}


def test_content_capture_of_system_tools_thinking_and_tool_results(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(tool_calls=[{"id": "toolu_2", "name": "get_time", "arguments": '{"tz": "UTC"}'}]))
    create(
        client,
        system=[{"type": "text", "text": "You are a clock."}],
        tools=[
            {"name": "get_time", "description": "Current time", "input_schema": {"type": "object"}},
            {"type": "web_search_20250305", "name": "web_search"},
        ],
        messages=[
            {"role": "user", "content": "What time is it?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "I should call the tool.", "signature": "sig"},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_time", "input": {"tz": "CET"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "12:00"}]},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
                ],
            },
        ],
    )
    attrs = telemetry.span().attributes
    assert decoded(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "You are a clock."}]
    assert decoded(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "What time is it?"}]},
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "I should call the tool."},
                {"type": "tool_call", "id": "toolu_1", "name": "get_time", "arguments": {"tz": "CET"}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"type": "tool_call_response", "id": "toolu_1", "response": "12:00"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBOR"},
            ],
        },
    ]
    assert decoded(attrs["gen_ai.tool.definitions"]) == [
        {"type": "function", "name": "get_time", "description": "Current time", "parameters": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search"},
    ]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "id": "toolu_2", "name": "get_time", "arguments": {"tz": "UTC"}}],
        }
    ]
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_call",)


def test_no_content_and_no_key_by_default(client, fake, telemetry, instrumented):
    fake.push(Reply(text="Red, yellow, blue."))
    create(client, system="Secret system prompt")
    exported = everything_exported(telemetry)
    for secret in (PROMPT, "Red, yellow", "Secret system prompt", API_KEY):
        assert secret not in exported


def test_beta_messages_share_the_same_shapes(client, telemetry, instrumented):
    message = client.beta.messages.create(
        model=MODEL,
        max_tokens=64,
        messages=[{"role": "user", "content": "hi"}],
        betas=["context-management-2025-06-27"],
    )
    span = telemetry.span()
    assert span.attributes["gen_ai.response.id"] == message.id
    assert span.attributes["gen_ai.provider.name"] == "anthropic"


def test_with_raw_response(client, telemetry, instrumented):
    raw = client.messages.with_raw_response.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    )
    message = raw.parse()
    assert raw.http_response.status_code == 200
    assert telemetry.span().attributes["gen_ai.response.id"] == message.id


def test_provider_name_by_client_class(fake_server):
    request = {"model": MODEL, "max_tokens": 8, "messages": []}
    vertex = anthropic.AnthropicVertex(region="us-east5", project_id="p", access_token="t", base_url=fake_server.url)
    assert adapter.parse_messages_request(vertex.messages, request).provider == "gcp.vertex_ai"
    direct = anthropic.Anthropic(api_key=API_KEY, base_url=fake_server.url)
    assert adapter.parse_messages_request(direct.messages, request).provider == "anthropic"
    bedrock_like = type("AnthropicBedrock", (anthropic.Anthropic,), {})(api_key=API_KEY, base_url=fake_server.url)
    assert adapter.parse_messages_request(bedrock_like.messages, request).provider == "aws.bedrock"


def test_vertex_client_end_to_end(fake_server, fake, telemetry, instrumented):
    vertex = anthropic.AnthropicVertex(
        region="us-east5", project_id="proj", access_token="token", base_url=fake_server.url, max_retries=0
    )
    message = vertex.messages.create(
        model="claude-opus-4-6@20260101", max_tokens=32, messages=[{"role": "user", "content": "hi"}]
    )
    span = telemetry.span()
    assert span.attributes["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert span.attributes["gen_ai.response.id"] == message.id


# --------------------------------------------------------------------------- the SDK's built-in tracing


def sdk_traced_client(fake_server, provider: TracerProvider) -> anthropic.Anthropic:
    """A client whose built-in OpenTelemetry tracing is on and reports to ``provider``."""
    return anthropic.Anthropic(
        api_key=API_KEY,
        base_url=fake_server.anthropic_base_url,
        max_retries=0,
        open_telemetry={"tracer_provider": provider},
    )


def test_the_sdk_alone_emits_its_own_span(fake_server, fake, telemetry):
    """Control for the next test: without us, the SDK's tracing does produce a span."""
    with sdk_traced_client(fake_server, telemetry.tracer_provider) as client:
        create(client)
    assert [s.instrumentation_scope.name for s in telemetry.spans()] == ["com.anthropic.sdk.python"]


def test_one_call_yields_one_inference_span_and_trace_context_still_propagates(
    fake_server, fake, telemetry, instrumented
):
    with sdk_traced_client(fake_server, telemetry.tracer_provider) as client:
        create(client)
        with client.messages.stream(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "x"}]) as s:
            s.get_final_message()
        list(create(client, stream=True))
    spans = telemetry.spans()
    assert [s.instrumentation_scope.name for s in spans] == ["opentelemetry_instrumentation_llm.anthropic"] * 3
    for span, exchange in zip(spans, fake.exchanges, strict=True):
        traceparent = exchange.headers["traceparent"]
        _, trace_id, span_id, _ = traceparent.split("-")
        assert int(trace_id, 16) == span.context.trace_id
        assert int(span_id, 16) == span.context.span_id  # the server sees our span as its parent


def test_calls_we_do_not_instrument_keep_the_sdk_span(fake_server, fake, telemetry, instrumented):
    with sdk_traced_client(fake_server, telemetry.tracer_provider) as client:
        client.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "count these words"}])
    assert [s.instrumentation_scope.name for s in telemetry.spans()] == ["com.anthropic.sdk.python"]


def test_sdk_tracing_to_another_provider_is_also_deduplicated(fake_server, fake, telemetry, instrumented):
    exporter = InMemorySpanExporter()
    other = TracerProvider()
    other.add_span_processor(SimpleSpanProcessor(exporter))
    with sdk_traced_client(fake_server, other) as client:
        create(client)
    assert exporter.get_finished_spans() == ()
    assert len(telemetry.spans()) == 1
