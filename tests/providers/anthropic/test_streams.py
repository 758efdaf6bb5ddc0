"""Anthropic streams: create(stream=True) and the messages.stream() helper, sync and async."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import anthropic
import pytest
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded
from tests.providers.anthropic.conftest import API_KEY, MODEL, base_attributes

MESSAGES = [{"role": "user", "content": "Tell me a short story."}]
TEXT = "Once upon a time a trace met a span and they lived happily."
USAGE = {"input_tokens": 12, "output_tokens": 14, "cache_read_input_tokens": 30, "cache_creation_input_tokens": 0}


def stream_kwargs(**kwargs: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 256, "messages": MESSAGES, **kwargs}


def deltas(events: list[Any]) -> int:
    return sum(1 for e in events if e.type == "content_block_delta")


def test_raw_stream_exhausted(client, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10, usage=USAGE))
    stream = client.messages.create(stream=True, **stream_kwargs())
    assert isinstance(stream, anthropic.Stream)
    events = list(stream)
    span = telemetry.span()
    attrs = {k: v for k, v in span.attributes.items() if k != "gen_ai.response.time_to_first_chunk"}
    assert attrs == {
        **base_attributes(fake_server),
        "gen_ai.request.stream": True,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.response.id": events[0].message.id,
        "gen_ai.response.model": events[0].message.model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 12 + 30,
        "gen_ai.usage.output_tokens": 14,
        "gen_ai.usage.cache_read.input_tokens": 30,
        "gen_ai.usage.cache_write.input_tokens": 0,
    }
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == deltas(events) - 1 == 9
    (first,) = telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.count == 1
    assert first.sum == pytest.approx(span.attributes["gen_ai.response.time_to_first_chunk"])


def test_helper_text_stream_and_final_message(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(text=TEXT, chunks=6, usage=USAGE))
    with client.messages.stream(**stream_kwargs()) as stream:
        assert type(stream).__name__ == "MessageStream"  # the SDK's own helper object
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == TEXT and final.content[0].text == TEXT
    span = telemetry.span()
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.response.id"] == final.id
    assert span.attributes["gen_ai.usage.output_tokens"] == final.usage.output_tokens
    assert decoded(span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": TEXT}], "finish_reason": "stop"}
    ]


def test_helper_events_and_get_final_text(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=4))
    with client.messages.stream(**stream_kwargs()) as stream:
        kinds = {event.type for event in stream}
        assert stream.get_final_text() == TEXT
    assert {"text", "message_stop"} <= kinds
    assert telemetry.span().attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_helper_left_early_ends_at_exit(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    with client.messages.stream(**stream_kwargs()) as stream:
        next(iter(stream.text_stream))
        assert telemetry.spans() == []
    assert stream is not None
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.finish_reasons" not in span.attributes


def test_tool_use_streamed(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(tool_calls=[{"id": "toolu_9", "name": "search", "arguments": '{"query": "otel genai"}'}]))
    with client.messages.stream(**stream_kwargs(tools=[{"name": "search", "input_schema": {}}])) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    span = telemetry.span()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert decoded(span.attributes["gen_ai.output.messages"])[0]["parts"] == [
        {"type": "tool_call", "id": "toolu_9", "name": "search", "arguments": {"query": "otel genai"}}
    ]


def test_error_event_inside_the_stream(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=6, stream_error={"type": "overloaded_error", "message": "Overloaded"}))
    with pytest.raises(anthropic.APIStatusError, match="Overloaded"):
        with client.messages.stream(**stream_kwargs()) as stream:
            stream.get_final_message()
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "overloaded_error"
    assert span.attributes["gen_ai.response.id"] == "msg_fake0001"


def test_connection_cut_mid_stream(fake_server, fake, telemetry, instrument):
    def run() -> type[BaseException]:
        fake.push(Reply(text=TEXT, chunks=10, cut_after=5))
        with anthropic.Anthropic(api_key=API_KEY, base_url=fake_server.anthropic_base_url, max_retries=0) as c:
            with pytest.raises(Exception) as raised:
                list(c.messages.create(stream=True, **stream_kwargs()))
        return type(raised.value)

    uninstrumented = run()
    instrument()
    assert run() is uninstrumented
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == uninstrumented.__name__


def test_dropped_raw_stream_ends_its_span(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    stream = client.messages.create(stream=True, **stream_kwargs())
    next(stream)
    del stream
    gc.collect()
    assert len(telemetry.spans()) == 1


def test_beta_stream_helper(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=3))
    with client.beta.messages.stream(**stream_kwargs()) as stream:
        final = stream.get_final_message()
    assert telemetry.span().attributes["gen_ai.response.id"] == final.id


# --------------------------------------------------------------------------- async


async def test_async_raw_stream(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=5, usage=USAGE))
    stream = await aclient.messages.create(stream=True, **stream_kwargs())
    assert isinstance(stream, anthropic.AsyncStream)
    events = [e async for e in stream]
    span = telemetry.span()
    assert span.attributes["gen_ai.usage.input_tokens"] == 42
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == deltas(events) - 1


async def test_async_helper(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=5))
    async with aclient.messages.stream(**stream_kwargs()) as stream:
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text == TEXT
    assert telemetry.span().attributes["gen_ai.response.id"] == final.id


async def test_async_helper_left_early(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    async with aclient.messages.stream(**stream_kwargs()) as stream:
        async for _ in stream:
            break
    assert stream is not None
    assert len(telemetry.spans()) == 1


async def test_async_raw_stream_close(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    stream = await aclient.messages.create(stream=True, **stream_kwargs())
    await stream.__anext__()
    await stream.close()
    assert len(telemetry.spans()) == 1


async def test_async_concurrent_helpers(aclient, telemetry, instrumented):
    async def one(i: int) -> str:
        async with aclient.messages.stream(
            model=f"claude-{i}", max_tokens=32, messages=[{"role": "user", "content": f"n{i}"}]
        ) as stream:
            return await stream.get_final_text()

    texts = await asyncio.gather(*(one(i) for i in range(16)))
    assert texts == [f"echo: n{i}" for i in range(16)]
    models = sorted(s.attributes["gen_ai.request.model"] for s in telemetry.spans())
    assert models == sorted(f"claude-{i}" for i in range(16))
