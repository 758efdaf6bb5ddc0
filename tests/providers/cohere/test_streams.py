"""Cohere v2 ``chat_stream`` (a generator; the async one an async generator): attributes and chunk
metrics, when the request goes out, every way a stream can end, tool calls, in-stream failures."""

from __future__ import annotations

import gc
import inspect
from typing import Any

import cohere
import pytest
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded
from tests.providers.cohere.conftest import API_KEY, MODEL, base_attributes

# The SDK itself (not this package) uses a pydantic API deprecated in pydantic 2.
pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated:DeprecationWarning")

PROMPT = "Tell me a short story about tracing"
MESSAGES = [{"role": "user", "content": PROMPT}]
TEXT = "Once upon a time a trace met a span and they lived happily ever after."


def stream_kwargs(**kwargs: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": MESSAGES, **kwargs}


def without_ttfc(attributes: Any) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k != "gen_ai.response.time_to_first_chunk"}


def deltas(events: list[Any]) -> int:
    return sum(1 for e in events if e.type == "content-delta")


def expected_attributes(server: Any, events: list[Any], **extra: Any) -> dict[str, Any]:
    end = events[-1]
    assert end.type == "message-end"
    return {
        **base_attributes(server),
        "gen_ai.request.stream": True,
        "gen_ai.response.id": events[0].id,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": int(end.delta.usage.tokens.input_tokens),
        "gen_ai.usage.output_tokens": int(end.delta.usage.tokens.output_tokens),
        **extra,
    }


def assert_chunk_metrics(telemetry: Any, span: Any, events: list[Any]) -> None:
    (first,) = telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.count == 1
    assert first.sum == pytest.approx(span.attributes["gen_ai.response.time_to_first_chunk"])
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == deltas(events) - 1


def test_sync_stream_exhausted_and_sent_on_first_read(client, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = client.chat_stream(temperature=0.4, k=5, **stream_kwargs())
    assert inspect.isgenerator(stream)  # the SDK's own generator, untouched
    assert fake.exchanges == [] and telemetry.spans() == []  # nothing is sent before the first read
    events = list(stream)
    assert "".join(e.delta.message.content.text for e in events if e.type == "content-delta") == TEXT
    span = telemetry.span()
    assert without_ttfc(span.attributes) == expected_attributes(
        fake_server, events, **{"gen_ai.request.temperature": 0.4, "gen_ai.request.top_k": 5}
    )
    assert span.attributes["gen_ai.usage.output_tokens"] == len(TEXT.split())
    assert deltas(events) == 8
    assert_chunk_metrics(telemetry, span, events)
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": len(PROMPT.split()), "output": len(TEXT.split())}


async def test_async_stream_exhausted(aclient, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=5))
    stream = aclient.chat_stream(**stream_kwargs())  # an async generator: not awaited
    assert inspect.isasyncgen(stream)
    events = [event async for event in stream]
    span = telemetry.span()
    assert without_ttfc(span.attributes) == expected_attributes(fake_server, events)
    assert_chunk_metrics(telemetry, span, events)


def test_break_close_and_drop_end_the_span_once(client, fake, telemetry, instrumented):
    fake.push(*(Reply(text=TEXT, chunks=10) for _ in range(3)))
    for _ in client.chat_stream(**stream_kwargs()):
        break  # the generator is dropped right here
    assert len(telemetry.spans()) == 1
    closed = client.chat_stream(**stream_kwargs())
    next(closed)
    closed.close()
    assert len(telemetry.spans()) == 2
    dropped = client.chat_stream(**stream_kwargs())
    next(dropped)
    del dropped
    gc.collect()
    spans = telemetry.spans()
    assert len(spans) == 3
    for span in spans:
        assert span.status.status_code is StatusCode.UNSET
        assert "gen_ai.response.finish_reasons" not in span.attributes
        assert span.attributes["gen_ai.response.id"] == "c0here-fake-0001"


async def test_async_aclose_ends_the_span(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    stream = aclient.chat_stream(**stream_kwargs())
    first = await stream.__anext__()
    assert first.type == "message-start"
    await stream.aclose()
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.finish_reasons" not in span.attributes


def test_connection_cut_mid_stream(fake_server, fake, telemetry, instrument):
    def run() -> BaseException:
        fake.push(Reply(text=TEXT, chunks=10, cut_after=5))
        with cohere.ClientV2(api_key=API_KEY, base_url=fake_server.url, max_retries=0) as c:
            with pytest.raises(Exception) as raised:
                list(c.chat_stream(**stream_kwargs()))
        return raised.value

    plain = run()
    instrument()
    observed = run()
    assert type(observed) is type(plain)
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == type(plain).__name__
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == 3 - 1  # message-start, content-start, then three deltas before the cut


def test_http_error_surfaces_on_first_read(client, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(status=429))
    stream = client.chat_stream(**stream_kwargs())
    with pytest.raises(cohere.TooManyRequestsError) as raised:
        next(stream)
    assert raised.value.status_code == 429
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "TooManyRequestsError"
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {**base_attributes(fake_server), "error.type": "TooManyRequestsError"}


def test_error_reported_at_the_end_of_a_stream(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=4, stream_error={"message": "internal failure"}))
    events = list(client.chat_stream(**stream_kwargs()))  # the SDK raises nothing
    assert events[-1].delta.error == "internal failure"
    span = telemetry.span()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("error",)
    assert span.attributes["error.type"] == "error"
    assert span.status.status_code is StatusCode.ERROR


def test_streamed_text_and_tool_call_content(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(
        Reply(text=TEXT, chunks=6),
        Reply(tool_calls=[{"id": "get_weather_p1", "name": "get_weather", "arguments": '{"city": "Paris"}'}]),
    )
    text = "".join(
        e.delta.message.content.text for e in client.chat_stream(**stream_kwargs()) if e.type == "content-delta"
    )
    events = list(
        client.chat_stream(
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
    plan = "".join(e.delta.message.tool_plan for e in events if e.type == "tool-plan-delta")
    start = next(e.delta.message.tool_calls for e in events if e.type == "tool-call-start")
    assert decoded(tool_span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": plan},
                {"type": "tool_call", "id": start.id, "name": start.function.name, "arguments": {"city": "Paris"}},
            ],
            "finish_reason": "tool_call",
        }
    ]
    assert tool_span.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    # One series per prompt: the call with tools has a fingerprint (llm.prompt.fingerprint), the other none.
    per_chunk = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert sorted("llm.prompt.fingerprint" in p.attributes for p in per_chunk) == [False, True]
    assert sum(p.count for p in per_chunk) == (6 - 1) + (
        sum(e.type in ("tool-plan-delta", "tool-call-delta") for e in events) - 1
    )
