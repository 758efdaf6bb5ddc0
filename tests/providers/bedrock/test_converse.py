"""Bedrock Converse (non-streaming): attributes, usage arithmetic, finish reasons, AWS error codes, content,
and the calls that must stay untraced (every other AWS call goes through the same botocore method)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.model import OperationNotFoundError
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, everything_exported
from tests.providers.bedrock.conftest import ACCESS_KEY, MODEL, SECRET_KEY, base_attributes, make_client, user

PROMPT = "Name three primary colours."


def converse(client: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("modelId", MODEL)
    kwargs.setdefault("messages", [user(PROMPT)])
    return client.converse(**kwargs)


def test_span_attributes_usage_and_metrics(client, fake, fake_server, telemetry, instrumented):
    # Bedrock's inputTokens excludes cache reads and writes: the conventions' input is the sum of the three.
    usage = {
        "inputTokens": 100,
        "outputTokens": 20,
        "totalTokens": 1170,
        "cacheReadInputTokens": 1000,
        "cacheWriteInputTokens": 50,
    }
    fake.push(Reply(text="Red, yellow, blue.", usage=usage, headers={"x-amzn-RequestId": "a1b2c3-request-id"}))
    response = converse(
        client,
        inferenceConfig={"maxTokens": 256, "temperature": 0.3, "topP": 0.9, "stopSequences": ["\n\nHuman:"]},
        additionalModelRequestFields={"top_k": 40},
        outputConfig={"effort": "high"},
        guardrailConfig={"guardrailIdentifier": "gr-abc123", "guardrailVersion": "1"},
    )
    assert response["output"]["message"]["content"] == [{"text": "Red, yellow, blue."}]
    span = telemetry.span()
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        **base_attributes(fake_server),
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.stop_sequences": ("\n\nHuman:",),
        "gen_ai.request.reasoning.level": "high",
        "aws.bedrock.guardrail.id": "gr-abc123",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 100 + 1000 + 50,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.cache_write.input_tokens": 50,
    }
    assert response["ResponseMetadata"]["RequestId"] == "a1b2c3-request-id"  # an AWS request id, not a response id
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": 1150, "output": 20}
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == base_attributes(fake_server)


def test_derived_usage_counts_words(client, fake, telemetry, instrumented):
    system = "Be brief."
    response = converse(client, system=[{"text": system}])
    expected_input = len(PROMPT.split()) + len(system.split())
    assert response["usage"]["inputTokens"] == expected_input
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.usage.input_tokens"] == expected_input
    assert attrs["gen_ai.usage.output_tokens"] == len(f"echo: {PROMPT}".split())
    assert "gen_ai.usage.cache_read.input_tokens" not in attrs


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_call"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("malformed_tool_use", "malformed_tool_use"),
    ],
)
def test_finish_reasons_are_mapped(client, fake, telemetry, instrumented, stop_reason, expected):
    fake.push(Reply(finish_reason=stop_reason))
    assert converse(client)["stopReason"] == stop_reason
    assert telemetry.span().attributes["gen_ai.response.finish_reasons"] == (expected,)


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(status=429), "ThrottlingException"),
        (Reply(status=400), "ValidationException"),
        (Reply(status=503), "ServiceUnavailableException"),
        # As Bedrock sends it: the code in the x-amzn-ErrorType header, with a namespace suffix botocore strips.
        (
            Reply(
                status=429,
                error={"message": "Too many requests, please wait before trying again."},
                headers={
                    "x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"
                },
            ),
            "ThrottlingException",
        ),
    ],
)
def test_client_errors_report_the_aws_error_code(client, fake, fake_server, telemetry, instrumented, reply, code):
    fake.push(reply)
    with pytest.raises(getattr(client.exceptions, code)) as raised:
        converse(client)
    assert raised.value.response["Error"]["Code"] == code
    assert len(fake.exchanges) == 1  # one attempt: the span covers the whole call
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == code
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {**base_attributes(fake_server), "error.type": code}


def test_connection_error_reports_the_class_name(fake, telemetry, instrumented):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    dead = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(EndpointConnectionError):
        converse(dead)
    span = telemetry.span()
    assert span.attributes["error.type"] == "EndpointConnectionError"
    assert span.attributes["server.port"] == 1


def test_content_capture_of_system_tools_and_tool_results(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(tool_calls=[{"id": "tooluse_2", "name": "get_time", "arguments": '{"tz": "UTC"}'}]))
    converse(
        client,
        system=[{"text": "You are a clock."}, {"cachePoint": {"type": "default"}}],
        toolConfig={
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_time",
                        "description": "Current time",
                        "inputSchema": {"json": {"type": "object"}},
                    }
                }
            ]
        },
        messages=[
            user("What time is it?"),
            {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "I should call the tool.", "signature": "sig"}}},
                    {"toolUse": {"toolUseId": "tooluse_1", "name": "get_time", "input": {"tz": "CET"}}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "12:00"}]}},
                    {"image": {"format": "png", "source": {"bytes": b"\x89PNG"}}},
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
                {"type": "tool_call", "id": "tooluse_1", "name": "get_time", "arguments": {"tz": "CET"}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"type": "tool_call_response", "id": "tooluse_1", "response": "12:00"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw=="},
            ],
        },
    ]
    assert decoded(attrs["gen_ai.tool.definitions"]) == [
        {"type": "function", "name": "get_time", "description": "Current time", "parameters": {"type": "object"}}
    ]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "id": "tooluse_2", "name": "get_time", "arguments": {"tz": "UTC"}}],
        }
    ]


def test_no_content_and_no_credentials_by_default(client, fake, telemetry, instrumented):
    fake.push(Reply(text="Red, yellow, blue."))
    converse(client, system=[{"text": "Secret system prompt"}])
    assert ACCESS_KEY in fake.exchanges[0].headers["authorization"]  # the request was signed with it
    exported = everything_exported(telemetry)
    for secret in (PROMPT, "Red, yellow", "Secret system prompt", ACCESS_KEY, SECRET_KEY):
        assert secret not in exported
    assert telemetry.logs() == []


def test_other_aws_calls_are_not_traced(client, fake, fake_server, telemetry, instrumented):
    # Another service on the same fake (it answers 404, which the SDK raises), a service that is down, and
    # the Bedrock control plane (service "bedrock", not "bedrock-runtime"): none is an inference call.
    sts = make_client(fake_server, "sts")
    with pytest.raises(Exception):  # noqa: B017 - whatever the SDK makes of the fake's 404
        sts.get_caller_identity()
    control = make_client(fake_server, "bedrock")
    with pytest.raises(Exception):  # noqa: B017
        control.list_foundation_models()
    # An operation named like ours on another service is not ours either (botocore rejects it).
    with pytest.raises(OperationNotFoundError):
        control._make_api_call("Converse", {"modelId": MODEL, "messages": [user(PROMPT)]})
    assert telemetry.spans() == []
    assert telemetry.metrics() == {}
    converse(client)  # control: the instrumentation is active
    assert len(telemetry.spans()) == 1


def test_uninstrument_restores_botocore(client, fake, telemetry, instrument):
    original = BaseClient._make_api_call
    instrumentor = instrument()
    assert BaseClient._make_api_call is not original
    instrumentor.uninstrument()
    assert BaseClient._make_api_call is original
    converse(client)
    assert telemetry.spans() == []
