"""Chat completions, non-streaming: spans, metrics, events and errors, asserted exactly."""

from __future__ import annotations

import json
from typing import Any

import openai
import pydantic
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, everything_exported, plain
from tests.providers.openai.conftest import API_KEY, base_attributes

PROMPT = "What is the capital of France? Answer briefly."


def chat(client: openai.OpenAI, **kwargs: Any) -> Any:
    kwargs.setdefault("model", "gpt-4o")
    kwargs.setdefault("messages", [{"role": "user", "content": PROMPT}])
    return client.chat.completions.create(**kwargs)


def test_span_has_every_request_and_response_attribute(client, fake_server, telemetry, instrumented):
    result = chat(
        client,
        temperature=0.25,
        top_p=0.9,
        max_completion_tokens=64,
        stop=["\n\n", "END"],
        seed=7,
        frequency_penalty=0.5,
        presence_penalty=-0.5,
        reasoning_effort="low",
        service_tier="flex",
        response_format={"type": "json_object"},
    )

    span = telemetry.span()
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        **base_attributes(fake_server),
        "openai.api.type": "chat_completions",
        "gen_ai.request.temperature": 0.25,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.stop_sequences": ("\n\n", "END"),
        "gen_ai.request.seed": 7,
        "gen_ai.request.frequency_penalty": 0.5,
        "gen_ai.request.presence_penalty": -0.5,
        "gen_ai.request.reasoning.level": "low",
        "openai.request.service_tier": "flex",
        "gen_ai.output.type": "json",
        "gen_ai.response.id": result.id,
        "gen_ai.response.model": result.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": result.usage.completion_tokens,
        "openai.response.system_fingerprint": result.system_fingerprint,
    }
    # The values above come from the response the SDK parsed; check they are the real ones.
    assert result.usage.prompt_tokens == len(PROMPT.split())
    assert result.model == "gpt-4o-2026-01-01"


def test_sampling_relevant_attributes_are_set_at_span_start(client, fake_server, telemetry, instrumented):
    from opentelemetry.sdk.trace import SpanProcessor

    seen: dict[str, Any] = {}

    class OnStart(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            seen.update(span.attributes)

    telemetry.tracer_provider.add_span_processor(OnStart())
    chat(client)
    for key in (
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "server.address",
        "server.port",
    ):
        assert key in seen, key
    assert "gen_ai.response.id" not in seen


def test_max_tokens_legacy_parameter_and_single_stop_string(client, telemetry, instrumented):
    chat(client, max_tokens=12, stop="STOP", n=1, service_tier="auto")
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.request.max_tokens"] == 12
    assert attrs["gen_ai.request.stop_sequences"] == ("STOP",)
    assert "gen_ai.request.choice.count" not in attrs  # n == 1 is not recorded
    assert "openai.request.service_tier" not in attrs  # "auto" is not recorded


def test_usage_details_map_to_cache_and_reasoning_tokens(client, fake, telemetry, instrumented):
    fake.push(
        Reply(
            usage={
                "prompt_tokens": 1200,
                "completion_tokens": 300,
                "total_tokens": 1500,
                "prompt_tokens_details": {"cached_tokens": 1024, "cache_write_tokens": 100},
                "completion_tokens_details": {"reasoning_tokens": 256},
            }
        )
    )
    chat(client)
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    assert attrs["gen_ai.usage.output_tokens"] == 300
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 1024
    assert attrs["gen_ai.usage.cache_write.input_tokens"] == 100
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 256


def test_several_choices_report_each_finish_reason(client, fake, telemetry, instrumented):
    fake.push(Reply(finish_reason="length"))
    result = chat(client, n=3)
    assert len(result.choices) == 3
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.request.choice.count"] == 3
    assert attrs["gen_ai.response.finish_reasons"] == ("length", "length", "length")


def test_response_service_tier_goes_on_span_and_metrics(client, fake, telemetry, instrumented):
    fake.push(Reply(extra={"service_tier": "scale"}))
    chat(client)
    assert telemetry.span().attributes["openai.response.service_tier"] == "scale"
    (point,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert point.attributes["openai.response.service_tier"] == "scale"
    assert "openai.response.system_fingerprint" not in point.attributes  # may be per-deployment: span only


def test_metrics_names_units_buckets_and_attributes(client, fake_server, telemetry, instrumented):
    result = chat(client)
    metrics = telemetry.metrics()
    assert set(metrics) == {sc.METRIC_OPERATION_DURATION, sc.METRIC_TOKEN_USAGE}

    duration = metrics[sc.METRIC_OPERATION_DURATION]
    assert duration.unit == "s"
    (point,) = duration.data.data_points
    expected = {**base_attributes(fake_server), "gen_ai.response.model": result.model}
    assert dict(point.attributes) == expected
    assert point.count == 1
    assert tuple(point.explicit_bounds) == sc.DURATION_BUCKETS
    span = telemetry.span()
    span_seconds = (span.end_time - span.start_time) / 1e9
    assert point.sum == pytest.approx(span_seconds, abs=1e-6)

    tokens = metrics[sc.METRIC_TOKEN_USAGE]
    assert tokens.unit == "{token}"
    by_type = {p.attributes["gen_ai.token.type"]: p for p in tokens.data.data_points}
    assert set(by_type) == {"input", "output"}
    for token_type, count in (("input", result.usage.prompt_tokens), ("output", result.usage.completion_tokens)):
        p = by_type[token_type]
        assert dict(p.attributes) == {**expected, "gen_ai.token.type": token_type}
        assert (p.count, p.sum) == (1, count)
        assert tuple(p.explicit_bounds) == sc.TOKEN_BUCKETS


def test_no_usage_no_token_metric(client, fake, telemetry, instrumented):
    fake.push(Reply(usage={}))  # a server that reports no counts: nothing is invented
    chat(client)
    assert "gen_ai.usage.input_tokens" not in telemetry.span().attributes
    assert telemetry.points(sc.METRIC_TOKEN_USAGE) == []
    assert len(telemetry.points(sc.METRIC_OPERATION_DURATION)) == 1


@pytest.mark.parametrize(
    ("status", "error_body", "exception", "error_type"),
    [
        (429, None, openai.RateLimitError, "RateLimitError"),
        (500, None, openai.InternalServerError, "InternalServerError"),
        (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 128000 tokens.",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                }
            },
            openai.BadRequestError,
            "BadRequestError",
        ),
    ],
)
def test_api_errors_propagate_unchanged_and_are_recorded(
    client, fake, fake_server, telemetry, instrumented, status, error_body, exception, error_type
):
    fake.push(Reply(status=status, error=error_body))
    with pytest.raises(exception) as raised:
        chat(client)
    assert raised.value.status_code == status
    if error_body:
        assert raised.value.code == "context_length_exceeded"

    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert error_type in span.status.description
    assert span.attributes["error.type"] == error_type
    assert "gen_ai.response.id" not in span.attributes
    assert [e.name for e in span.events] == ["exception"]

    (point,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(point.attributes) == {**base_attributes(fake_server), "error.type": error_type}
    assert telemetry.points(sc.METRIC_TOKEN_USAGE) == []

    (event,) = telemetry.events(sc.EVENT_OPERATION_EXCEPTION)
    assert event.attributes["exception.type"] == exception.__qualname__
    assert event.severity_number.value == 13  # WARN
    assert event.span_id == span.context.span_id


def test_timeout_is_an_error(fake_server, fake, telemetry, instrumented):
    fake.push(Reply(delay=1.0))
    with openai.OpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, max_retries=0, timeout=0.2) as client:
        with pytest.raises(openai.APITimeoutError):
            chat(client)
    span = telemetry.span()
    assert span.attributes["error.type"] == "APITimeoutError"
    assert span.status.status_code is StatusCode.ERROR


def test_retries_are_inside_one_span(fake_server, fake, telemetry, instrumented):
    fake.push(Reply(status=500), Reply(status=500))
    with openai.OpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, max_retries=2) as client:
        result = chat(client)
    assert len(fake.exchanges) == 3
    span = telemetry.span()  # the call as the caller sees it, retries included
    assert span.attributes["gen_ai.response.id"] == result.id
    assert span.status.status_code is StatusCode.UNSET


def test_tool_calls_finish_reason(client, fake, telemetry, instrumented):
    fake.push(Reply(tool_calls=[{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'}]))
    result = chat(client, tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}])
    assert result.choices[0].message.tool_calls[0].function.name == "get_weather"
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert "gen_ai.tool.definitions" not in attrs  # content (tool definitions included) is opt-in


class CityAnswer(pydantic.BaseModel):
    city: str


def test_parse_helper_is_instrumented_and_returns_the_parsed_object(client, fake, telemetry, instrumented):
    fake.push(Reply(text='{"city": "Paris"}'))
    result = client.chat.completions.parse(
        model="gpt-4o", messages=[{"role": "user", "content": PROMPT}], response_format=CityAnswer
    )
    assert result.choices[0].message.parsed == CityAnswer(city="Paris")
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.output.type"] == "json"
    assert attrs["gen_ai.response.id"] == result.id


def test_azure_client_reports_azure_provider(fake_server, fake, telemetry, instrumented):
    with openai.AzureOpenAI(
        api_key=API_KEY, azure_endpoint=fake_server.url, api_version="2024-10-21", max_retries=0
    ) as azure:
        azure.chat.completions.create(model="my-deployment", messages=[{"role": "user", "content": "hi"}])
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.provider.name"] == "azure.ai.openai"
    assert attrs["server.address"] == fake_server.host


def test_openai_compatible_server_keeps_openai_provider_and_its_own_address(fake_server, fake, telemetry, instrumented):
    base = fake_server.openai_base_url.replace("127.0.0.1", "localhost")
    with openai.OpenAI(api_key=API_KEY, base_url=base, max_retries=0) as local:
        chat(local)
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["server.address"] == "localhost"
    assert attrs["server.port"] == fake_server.port


# --------------------------------------------------------------------------- content capture


def test_no_content_by_default_anywhere(client, fake, telemetry, instrumented):
    fake.push(Reply(text="The capital is Paris."))
    chat(
        client,
        messages=[{"role": "system", "content": "You are terse."}, {"role": "user", "content": PROMPT}],
        tools=[{"type": "function", "function": {"name": "lookup_capital", "description": "secret tool"}}],
    )
    exported = everything_exported(telemetry)
    for secret in (PROMPT, "capital of France", "Paris", "You are terse", "lookup_capital", API_KEY):
        assert secret not in exported
    assert telemetry.logs() == []  # no details event without opt-in


@pytest.mark.parametrize("mode", ["SPAN_ONLY", "span_only", "SPAN_AND_EVENT", "true", "True"])
def test_content_on_span_via_environment(client, fake, telemetry, instrument, monkeypatch, mode):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", mode)
    instrument()
    fake.push(Reply(text="Paris."))
    chat(
        client,
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": PROMPT, "name": "alice"},
        ],
    )
    attrs = telemetry.span().attributes
    assert decoded(attrs["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}], "name": "alice"},
    ]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Paris."}], "finish_reason": "stop"},
    ]
    json.loads(attrs["gen_ai.input.messages"])  # valid JSON text on spans
    assert API_KEY not in everything_exported(telemetry)


def test_content_event_only_carries_structured_content_and_span_attributes(
    client, fake, fake_server, telemetry, instrument
):
    instrument(capture_content="EVENT_ONLY")
    fake.push(Reply(tool_calls=[{"id": "call_9", "name": "get_weather", "arguments": '{"city": "Paris"}'}]))
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "description": "Weather by city", "parameters": {"type": "object"}},
        }
    ]
    result = chat(client, messages=messages, tools=tools)

    span = telemetry.span()
    for key in ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.definitions"):
        assert key not in span.attributes
    (event,) = telemetry.events(sc.EVENT_INFERENCE_DETAILS)
    assert event.span_id == span.context.span_id and event.trace_id == span.context.trace_id
    attrs = plain(dict(event.attributes))
    assert attrs["gen_ai.input.messages"] == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Weather?"},
                {"type": "uri", "modality": "image", "uri": "https://example.com/a.png"},
            ],
        },
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Rome"}}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "sunny"}]},
    ]
    assert attrs["gen_ai.output.messages"] == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "id": "call_9", "name": "get_weather", "arguments": {"city": "Paris"}}],
        },
    ]
    assert attrs["gen_ai.tool.definitions"] == [
        {"type": "function", "name": "get_weather", "description": "Weather by city", "parameters": {"type": "object"}},
    ]
    # The event carries the span's attribute set too.
    for key, value in {
        **base_attributes(fake_server),
        "gen_ai.response.id": result.id,
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
    }.items():
        assert attrs[key] == value


def test_data_url_images_become_blob_parts(client, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    chat(
        client,
        messages=[
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}],
            }
        ],
    )
    (message,) = decoded(telemetry.span().attributes["gen_ai.input.messages"])
    assert message["parts"] == [
        {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0KGgo="}
    ]


def test_invalid_capture_value_warns_once_and_captures_nothing(client, telemetry, instrument, monkeypatch, caplog):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "everything-please")
    from opentelemetry_instrumentation_llm import config

    config._warned.discard("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT")
    with caplog.at_level("WARNING"):
        instrument()
    warnings = [r.getMessage() for r in caplog.records if "CAPTURE_MESSAGE_CONTENT" in r.getMessage()]
    assert len(warnings) == 1
    assert "SPAN_AND_EVENT" in warnings[0] and "everything-please" in warnings[0]
    chat(client)
    assert "gen_ai.input.messages" not in telemetry.span().attributes


def test_emit_event_without_content(client, telemetry, instrument, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT", "true")
    instrument()
    chat(client)
    (event,) = telemetry.events(sc.EVENT_INFERENCE_DETAILS)
    assert event.attributes["gen_ai.operation.name"] == "chat"
    assert "gen_ai.input.messages" not in event.attributes
    assert PROMPT not in everything_exported(telemetry)
