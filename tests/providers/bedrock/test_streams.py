"""Bedrock streams: ConverseStream and InvokeModelWithResponseStream (Anthropic, Llama, Titan bodies);
exception events inside the stream, cut connections, and every way a stream can end."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from botocore.eventstream import EventStream
from botocore.exceptions import EventStreamError
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded, everything_exported
from tests.providers.bedrock.conftest import (
    LLAMA,
    MODEL,
    TITAN,
    anthropic_body,
    base_attributes,
    body,
    make_client,
    user,
    words,
)

PROMPT = "Tell me a short story."
TEXT = "Once upon a time a trace met a span and they lived happily."


def converse_stream(client: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("modelId", MODEL)
    kwargs.setdefault("messages", [user(PROMPT)])
    return client.converse_stream(**kwargs)


def without_ttfc(attributes: Any) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k != "gen_ai.response.time_to_first_chunk"}


def test_converse_stream_exhausted(client, fake, fake_server, telemetry, instrumented):
    usage = {"inputTokens": 12, "outputTokens": 14, "totalTokens": 56, "cacheReadInputTokens": 30}
    fake.push(Reply(text=TEXT, chunks=10, usage=usage))
    response = converse_stream(client, inferenceConfig={"maxTokens": 300})
    assert isinstance(response["stream"], EventStream)  # the SDK's own type, observed through a proxy
    events = list(response["stream"])
    deltas = [e for e in events if "contentBlockDelta" in e]
    assert "".join(e["contentBlockDelta"]["delta"]["text"] for e in deltas) == TEXT
    span = telemetry.span()
    assert without_ttfc(span.attributes) == {
        **base_attributes(fake_server),
        "gen_ai.request.stream": True,
        "gen_ai.request.max_tokens": 300,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12 + 30,
        "gen_ai.usage.output_tokens": 14,
        "gen_ai.usage.cache_read.input_tokens": 30,
    }
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == len(deltas) - 1 == 9
    (first,) = telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.sum == pytest.approx(span.attributes["gen_ai.response.time_to_first_chunk"])
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": 42, "output": 14}


def test_converse_stream_tool_use_and_content(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(tool_calls=[{"id": "tooluse_9", "name": "search", "arguments": '{"query": "otel genai"}'}]))
    events = list(
        converse_stream(
            client,
            toolConfig={"tools": [{"toolSpec": {"name": "search", "inputSchema": {"json": {"type": "object"}}}}]},
        )["stream"]
    )
    assert events[-2] == {"messageStop": {"stopReason": "tool_use"}}
    attrs = telemetry.span().attributes
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert decoded(attrs["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "id": "tooluse_9", "name": "search", "arguments": {"query": "otel genai"}}],
        }
    ]


def test_converse_stream_text_is_not_recorded_by_default(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=4))
    list(converse_stream(client)["stream"])
    exported = everything_exported(telemetry)
    assert TEXT not in exported and PROMPT not in exported and "Once upon" not in exported


def test_invoke_stream_anthropic(client, fake, fake_server, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    usage = {"input_tokens": 9, "output_tokens": 14, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0}
    fake.push(Reply(text=TEXT, chunks=6, usage=usage))
    response = client.invoke_model_with_response_stream(modelId=MODEL, body=anthropic_body(PROMPT, temperature=1))
    assert isinstance(response["body"], EventStream)
    events = [json.loads(e["chunk"]["bytes"]) for e in response["body"]]
    assert "amazon-bedrock-invocationMetrics" in events[-1]
    start = events[0]["message"]
    span = telemetry.span()
    assert without_ttfc(span.attributes) == {
        **base_attributes(fake_server),
        "gen_ai.request.stream": True,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.temperature": 1.0,
        "gen_ai.response.id": start["id"],
        "gen_ai.response.model": start["model"],
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 9 + 100,
        "gen_ai.usage.output_tokens": 14,
        "gen_ai.usage.cache_read.input_tokens": 100,
        "gen_ai.usage.cache_write.input_tokens": 0,
        "gen_ai.input.messages": span.attributes["gen_ai.input.messages"],
        "gen_ai.output.messages": span.attributes["gen_ai.output.messages"],
    }
    assert decoded(span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": TEXT}]}
    ]
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == sum(1 for e in events if e["type"] == "content_block_delta") - 1 == 5


@pytest.mark.parametrize(
    ("model", "payload", "operation"),
    [
        (LLAMA, {"prompt": PROMPT, "max_gen_len": 64}, "text_completion"),
        (TITAN, {"inputText": PROMPT, "textGenerationConfig": {"maxTokenCount": 64}}, "text_completion"),
        # Mistral's chunks carry no token counts: usage comes from Bedrock's closing invocation metrics.
        ("mistral.mistral-7b-instruct-v0:2", {"prompt": PROMPT, "max_tokens": 64}, "text_completion"),
    ],
)
def test_invoke_stream_prompt_families(client, fake, fake_server, telemetry, instrument, model, payload, operation):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(text=TEXT, chunks=5))
    pieces = [
        json.loads(e["chunk"]["bytes"])
        for e in client.invoke_model_with_response_stream(modelId=model, body=body(payload))["body"]
    ]
    text = "".join(
        p.get("generation") or p.get("outputText") or p.get("outputs", [{}])[0].get("text") or "" for p in pieces
    )
    assert text == TEXT
    assert "amazon-bedrock-invocationMetrics" in pieces[-1]
    span = telemetry.span()
    assert without_ttfc(span.attributes) == {
        **base_attributes(fake_server, model, operation),
        "gen_ai.request.stream": True,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": words(PROMPT),
        "gen_ai.usage.output_tokens": words(TEXT),
        "gen_ai.input.messages": span.attributes["gen_ai.input.messages"],
        "gen_ai.output.messages": span.attributes["gen_ai.output.messages"],
    }
    assert decoded(span.attributes["gen_ai.output.messages"])[0]["parts"] == [{"type": "text", "content": TEXT}]
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == 5 - 1  # the text pieces; a closing empty piece is not output


@pytest.mark.parametrize(
    ("operation", "exception_type", "error_type"),
    [
        ("converse", "throttlingException", "ThrottlingException"),
        ("invoke", "modelStreamErrorException", "ModelStreamErrorException"),
    ],
)
def test_exception_event_inside_the_stream(
    client, fake, telemetry, instrumented, operation, exception_type, error_type
):
    fake.push(Reply(text=TEXT, chunks=6, stream_error={"type": exception_type, "message": "Try again later"}))
    if operation == "converse":
        stream = converse_stream(client)["stream"]
    else:
        stream = client.invoke_model_with_response_stream(modelId=MODEL, body=anthropic_body(PROMPT))["body"]
    received = []
    with pytest.raises(EventStreamError, match="Try again later") as raised:
        for event in stream:
            received.append(event)
    assert raised.value.response["Error"]["Code"] == exception_type  # botocore's own code, untouched
    assert received  # the content before the exception reached the user
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == error_type
    assert "gen_ai.response.finish_reasons" not in span.attributes
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert duration.attributes["error.type"] == error_type


def test_connection_cut_mid_stream(fake_server, fake, telemetry, instrument):
    def run() -> type[BaseException]:
        fake.push(Reply(text=TEXT, chunks=10, cut_after=5))
        client = make_client(fake_server)
        with pytest.raises(Exception) as raised:  # whatever botocore raises; compared below
            list(converse_stream(client)["stream"])
        client.close()
        return type(raised.value)

    uninstrumented = run()
    instrument()
    assert run() is uninstrumented
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == uninstrumented.__name__


def test_closed_early_ends_the_span_once(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    stream = converse_stream(client)["stream"]
    next(iter(stream))
    assert telemetry.spans() == []
    stream.close()
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.finish_reasons" not in span.attributes
    del stream
    gc.collect()
    assert len(telemetry.spans()) == 1
    assert len(telemetry.points(sc.METRIC_OPERATION_DURATION)) == 1


def test_break_then_resume_reads_on(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    stream = converse_stream(client)["stream"]
    for _ in stream:
        break
    rest = list(stream)
    assert rest[-1].keys() == {"metadata"}
    assert telemetry.span().attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_dropped_stream_ends_its_span(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    response = client.invoke_model_with_response_stream(modelId=LLAMA, body=body({"prompt": PROMPT}))
    next(iter(response["body"]))
    del response
    gc.collect()
    assert len(telemetry.spans()) == 1


def test_titan_stream_counts_are_the_integer_invocation_metrics(client, fake, telemetry, instrumented):
    # Titan's chunks carry its counts as JSON floats (28.0); the closing invocation metrics carry integers.
    fake.push(Reply(text=TEXT, chunks=3, usage={"inputTextTokenCount": 28.0, "totalOutputTextTokenCount": 9.0}))
    pieces = [
        json.loads(e["chunk"]["bytes"])
        for e in client.invoke_model_with_response_stream(modelId=TITAN, body=body({"inputText": PROMPT}))["body"]
    ]
    assert pieces[0]["inputTextTokenCount"] == 28.0 and isinstance(pieces[0]["inputTextTokenCount"], float)
    metrics = pieces[-1]["amazon-bedrock-invocationMetrics"]
    attrs = telemetry.span().attributes
    assert (
        (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"])
        == (metrics["inputTokenCount"], metrics["outputTokenCount"])
        == (words(PROMPT), words(TEXT))
    )
    assert type(attrs["gen_ai.usage.input_tokens"]) is int and type(attrs["gen_ai.usage.output_tokens"]) is int
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": words(PROMPT), "output": words(TEXT)}
    assert all(type(total) is int for total in tokens.values())


def _chunks(*events: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"chunk": {"bytes": json.dumps(e).encode()}} for e in events]


def _accumulate(events: list[dict[str, Any]]) -> Any:
    from opentelemetry_instrumentation_llm.providers import bedrock as adapter

    accumulator = adapter.BedrockStreamAccumulator(True)
    outputs = [accumulator.add(event) for event in events]
    return outputs, accumulator.result()


def test_invoke_stream_of_chat_completions_chunks():
    """Mistral Large / gpt-oss stream Chat Completions chunks (Mistral names the reason ``stop_reason``); the
    fake does not speak them, so they are replayed from plain events."""
    outputs, info = _accumulate(
        _chunks(
            {
                "id": "cmpl-1",
                "model": "mistral.mistral-large",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "stop_reason": None}],
            },
            {"id": "cmpl-1", "choices": [{"index": 0, "delta": {"content": "lo"}, "stop_reason": None}]},
            {
                "id": "cmpl-1",
                "choices": [{"index": 0, "delta": {"content": ""}, "stop_reason": "length"}],
                "amazon-bedrock-invocationMetrics": {"inputTokenCount": 4, "outputTokenCount": 2},
            },
        )
    )
    assert outputs == [True, True, True]
    assert (info.response_id, info.response_model, info.finish_reasons) == (
        "cmpl-1",
        "mistral.mistral-large",
        ["length"],
    )
    assert (info.usage.input_tokens, info.usage.output_tokens) == (4, 2)
    assert info.output_messages == [
        {"role": "assistant", "finish_reason": "length", "parts": [{"type": "text", "content": "Hello"}]}
    ]


def test_invoke_stream_of_nova_events():
    """Amazon Nova streams Converse-shaped events inside InvokeModelWithResponseStream chunks."""
    outputs, info = _accumulate(
        _chunks(
            {"messageStart": {"role": "assistant"}},
            {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "Hi "}}},
            {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "there"}}},
            {"messageStop": {"stopReason": "end_turn"}},
            {
                "metadata": {"usage": {"inputTokens": 3, "outputTokens": 2, "cacheReadInputTokens": 10}},
                "amazon-bedrock-invocationMetrics": {"inputTokenCount": 3, "outputTokenCount": 2},
            },
        )
    )
    assert outputs == [False, True, True, False, False]
    assert info.finish_reasons == ["stop"]
    assert (info.usage.input_tokens, info.usage.cache_read_tokens) == (13, 10)  # the body's counts, with cache
    assert info.output_messages == [
        {"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": "Hi there"}]}
    ]
