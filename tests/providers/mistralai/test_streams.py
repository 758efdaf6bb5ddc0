"""Mistral chat streams (``EventStream`` / ``EventStreamAsync``): attributes and chunk metrics, every
way a stream can end (exhaustion, ``with`` exit, ``close()``, a drop, a cut connection), content."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from mistralai.client import Mistral, errors
from mistralai.client.utils.eventstreaming import EventStream, EventStreamAsync
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded
from tests.providers.mistralai.conftest import API_KEY, MODEL, base_attributes, server_url

PROMPT = "Tell me a short story about tracing"
MESSAGES = [{"role": "user", "content": PROMPT}]
TEXT = "Once upon a time a trace met a span and they lived happily ever after."


def stream_kwargs(**kwargs: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": MESSAGES, **kwargs}


def without_ttfc(attributes: Any) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k != "gen_ai.response.time_to_first_chunk"}


def expected_stream_attributes(server: Any, events: list[Any], **extra: Any) -> dict[str, Any]:
    last = events[-1].data
    return {
        **base_attributes(server),
        "gen_ai.request.stream": True,
        "gen_ai.response.id": events[0].data.id,
        "gen_ai.response.model": events[0].data.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": last.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": last.usage.completion_tokens,
        **extra,
    }


def assert_chunk_metrics(telemetry: Any, span: Any, events: list[Any]) -> None:
    (first,) = telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.count == 1
    assert first.sum == pytest.approx(span.attributes["gen_ai.response.time_to_first_chunk"])
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == len(events) - 1  # every chunk carries a choice


def test_sync_stream_exhausted(client, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = client.chat.stream(temperature=0.5, **stream_kwargs())
    assert isinstance(stream, EventStream)
    events = list(stream)
    assert "".join(e.data.choices[0].delta.content for e in events) == TEXT
    span = telemetry.span()
    assert without_ttfc(span.attributes) == expected_stream_attributes(
        fake_server, events, **{"gen_ai.request.temperature": 0.5}
    )
    assert events[-1].data.usage.completion_tokens == len(TEXT.split())
    assert len(events) == 8 + 2
    assert_chunk_metrics(telemetry, span, events)
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": len(PROMPT.split()), "output": len(TEXT.split())}


async def test_async_stream_exhausted(aclient, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=5))
    stream = await aclient.chat.stream_async(**stream_kwargs())
    assert isinstance(stream, EventStreamAsync)
    events = [event async for event in stream]
    span = telemetry.span()
    assert without_ttfc(span.attributes) == expected_stream_attributes(fake_server, events)
    assert_chunk_metrics(telemetry, span, events)


def test_with_block_left_early_ends_the_span_once(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    with client.chat.stream(**stream_kwargs()) as stream:
        for _ in stream:
            break
        assert telemetry.spans() == []
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.finish_reasons" not in span.attributes
    assert list(stream) == []  # a closed EventStream yields nothing more, as without us
    assert len(telemetry.spans()) == 1


def test_close_and_drop_end_the_span(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10), Reply(text=TEXT, chunks=10))
    closed = client.chat.stream(**stream_kwargs())
    next(closed)
    closed.close()
    assert len(telemetry.spans()) == 1
    dropped = client.chat.stream(**stream_kwargs())
    next(dropped)
    del dropped
    gc.collect()
    assert len(telemetry.spans()) == 2
    closed.close()  # closing again ends nothing twice
    assert len(telemetry.spans()) == 2


async def test_async_close_and_async_with(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10), Reply(text=TEXT, chunks=10))
    stream = await aclient.chat.stream_async(**stream_kwargs())
    await stream.__anext__()
    await stream.close()
    assert len(telemetry.spans()) == 1
    async with await aclient.chat.stream_async(**stream_kwargs()) as stream:
        async for _ in stream:
            break
    assert len(telemetry.spans()) == 2


def test_connection_cut_mid_stream(fake_server, fake, telemetry, instrument):
    def run() -> BaseException:
        fake.push(Reply(text=TEXT, chunks=10, cut_after=4))
        with Mistral(api_key=API_KEY, server_url=server_url(fake_server)) as c:
            with pytest.raises(Exception) as raised:
                list(c.chat.stream(**stream_kwargs()))
        return raised.value

    plain = run()
    instrument()
    observed = run()
    assert type(observed) is type(plain)
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == type(plain).__name__
    assert span.attributes["gen_ai.response.id"] == "cmpl-mistral0001"  # what arrived before the cut
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == 4 - 1


def test_http_error_on_a_stream_request(client, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(status=429))
    with pytest.raises(errors.SDKError) as raised:
        client.chat.stream(**stream_kwargs())
    assert raised.value.status_code == 429
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "429"
    assert span.attributes["gen_ai.request.stream"] is True
    assert telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK) == []


def test_streamed_text_and_tool_call_content(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(
        Reply(text=TEXT, chunks=6),
        Reply(tool_calls=[{"id": "D681PevKs", "name": "get_weather", "arguments": '{"city": "Paris"}'}]),
    )
    text = "".join(e.data.choices[0].delta.content for e in client.chat.stream(**stream_kwargs()))
    events = list(
        client.chat.stream(
            **stream_kwargs(
                tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
            )
        )
    )
    text_span, tool_span = telemetry.spans()
    assert decoded(text_span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": text}], "finish_reason": "stop"}
    ]
    assert decoded(text_span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": PROMPT}]}
    ]
    call = next(e.data.choices[0].delta.tool_calls[0] for e in events if e.data.choices[0].delta.tool_calls)
    assert decoded(tool_span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": call.id, "name": call.function.name, "arguments": {"city": "Paris"}}],
            "finish_reason": "tool_call",
        }
    ]
    assert tool_span.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)


def test_error_event_inside_the_stream(client, fake, telemetry, instrumented):
    """The SDK cannot parse Mistral's in-stream error object as a chunk and raises ResponseValidationError."""
    fake.push(Reply(text=TEXT, chunks=4, stream_error={"message": "Service unavailable", "type": "internal_error"}))
    with pytest.raises(errors.ResponseValidationError):
        list(client.chat.stream(**stream_kwargs()))
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "ResponseValidationError"
    assert span.attributes["gen_ai.response.id"] == "cmpl-mistral0001"
