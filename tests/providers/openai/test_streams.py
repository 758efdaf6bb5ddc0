"""Chat completion streams: the proxy behaves like the SDK's stream and its span ends exactly once."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from typing import Any

import httpx2
import openai
import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from opentelemetry_instrumentation_llm.testing.dialects.openai import AZURE_PROMPT_FILTER_CHUNK
from tests.conftest import decoded
from tests.providers.openai.conftest import API_KEY, base_attributes

MESSAGES = [{"role": "user", "content": "Count from one to eight, please."}]
TEXT = "one two three four five six seven eight"


def open_stream(client: openai.OpenAI, **kwargs: Any) -> Any:
    kwargs.setdefault("model", "gpt-4o")
    kwargs.setdefault("messages", MESSAGES)
    return client.chat.completions.create(stream=True, **kwargs)


def output_chunks(chunks: list[Any]) -> int:
    return sum(1 for c in chunks if c.choices)


def test_exhausted_stream_records_span_usage_and_chunk_metrics(client, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = open_stream(client, stream_options={"include_usage": True})
    assert isinstance(stream, openai.Stream)
    assert isinstance(stream.response, httpx2.Response) and stream.response.status_code == 200
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    usage = chunks[-1].usage

    span = telemetry.span()
    expected = {
        **base_attributes(fake_server),
        "gen_ai.request.stream": True,
        "openai.api.type": "chat_completions",
        "gen_ai.response.id": chunks[0].id,
        "gen_ai.response.model": chunks[0].model,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": usage.prompt_tokens,
        "gen_ai.usage.output_tokens": usage.completion_tokens,
        "openai.response.system_fingerprint": "fp_fake01",
    }
    ttfc = span.attributes["gen_ai.response.time_to_first_chunk"]
    assert {k: v for k, v in span.attributes.items() if k != "gen_ai.response.time_to_first_chunk"} == expected
    assert 0 < ttfc <= (span.end_time - span.start_time) / 1e9

    metric_attrs = {**base_attributes(fake_server), "gen_ai.response.model": chunks[0].model}
    (first,) = telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert dict(first.attributes) == metric_attrs
    assert first.count == 1 and first.sum == pytest.approx(ttfc)
    assert tuple(first.explicit_bounds) == sc.DURATION_BUCKETS
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert dict(per_chunk.attributes) == metric_attrs
    assert per_chunk.count == output_chunks(chunks) - 1
    assert tuple(per_chunk.explicit_bounds) == sc.DURATION_BUCKETS
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": usage.prompt_tokens, "output": usage.completion_tokens}
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert duration.count == 1


def test_without_include_usage_no_tokens_are_invented_and_request_is_untouched(client, fake, telemetry, instrumented):
    chunks = list(open_stream(client))
    assert all(c.usage is None for c in chunks)
    assert "stream_options" not in fake.exchanges[-1].body  # we never alter the request
    attrs = telemetry.span().attributes
    assert "gen_ai.usage.input_tokens" not in attrs and "gen_ai.usage.output_tokens" not in attrs
    assert telemetry.points(sc.METRIC_TOKEN_USAGE) == []


def test_span_stays_open_while_reading_and_ends_once_on_close(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = open_stream(client)
    next(stream), next(stream)
    assert telemetry.spans() == []  # still streaming
    stream.close()
    assert len(telemetry.spans()) == 1
    stream.close()
    try:  # whatever the SDK does when read after close (it may still yield buffered chunks)...
        for _ in stream:
            pass
    except Exception:  # noqa: BLE001 - fail open: instrumentation never breaks the call
        pass
    assert len(telemetry.spans()) == 1  # ...the span ended once
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert duration.count == 1
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.finish_reasons" not in span.attributes  # none was received
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-fake0001"


def test_breaking_out_of_a_with_block_ends_the_span(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    with open_stream(client) as stream:
        assert isinstance(stream, openai.Stream)
        for i, _ in enumerate(stream):
            if i == 2:
                break
        assert telemetry.spans() == []
    assert len(telemetry.spans()) == 1
    assert stream.response.is_closed


def test_dropped_stream_ends_its_span_when_collected(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = open_stream(client)
    next(stream)
    del stream
    gc.collect()
    assert len(telemetry.spans()) == 1


def test_connection_cut_mid_stream_propagates_the_sdk_error(fake_server, fake, telemetry, instrument):
    def run() -> type[BaseException]:
        fake.push(Reply(text=TEXT, chunks=8, cut_after=4))
        with openai.OpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, max_retries=0) as c:
            stream = open_stream(c)
            with pytest.raises(Exception) as raised:
                for _ in stream:
                    pass
        return type(raised.value)

    uninstrumented = run()
    instrument()
    instrumented_error = run()
    assert instrumented_error is uninstrumented  # the user's exception is the SDK's own
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == uninstrumented.__name__
    assert span.attributes["gen_ai.response.id"] == "chatcmpl-fake0001"  # what arrived before the cut
    (duration,) = telemetry.points(sc.METRIC_OPERATION_DURATION)
    assert duration.attributes["error.type"] == uninstrumented.__name__


def test_error_event_inside_the_stream(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=4, stream_error={"message": "The server is overloaded", "type": "server_error"}))
    with pytest.raises(openai.APIError, match="overloaded"):
        list(open_stream(client))
    span = telemetry.span()
    assert span.attributes["error.type"] == "APIError"
    assert span.status.status_code is StatusCode.ERROR


def test_user_code_between_chunks_sees_its_own_context(client, telemetry, instrumented):
    tracer = telemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request-handler") as parent:
        for _ in open_stream(client):
            assert trace.get_current_span() is parent  # our span is current only inside each read
    llm, handler = sorted(telemetry.spans(), key=lambda s: s.name)
    assert llm.name == "chat gpt-4o"
    assert llm.parent.span_id == handler.context.span_id


def test_closing_from_another_thread_does_not_break_context(client, fake, telemetry, instrumented, caplog):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = open_stream(client)
    next(stream)
    with caplog.at_level(logging.ERROR, logger="opentelemetry.context"):
        closer = threading.Thread(target=stream.close)
        closer.start()
        closer.join()
    assert not [r for r in caplog.records if "detach" in r.getMessage().lower()]
    assert len(telemetry.spans()) == 1


def test_tool_call_deltas_are_assembled_when_capturing(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(
        Reply(
            tool_calls=[
                {"id": "call_a", "name": "lookup", "arguments": '{"q": "eiffel tower height"}'},
                {"id": "call_b", "name": "convert", "arguments": '{"unit": "ft"}'},
            ]
        )
    )
    chunks = list(open_stream(client, tools=[{"type": "function", "function": {"name": "lookup"}}]))
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    span = telemetry.span()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert decoded(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [
                {"type": "tool_call", "id": "call_a", "name": "lookup", "arguments": {"q": "eiffel tower height"}},
                {"type": "tool_call", "id": "call_b", "name": "convert", "arguments": {"unit": "ft"}},
            ],
        }
    ]


def test_several_choices_streamed(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(text="alpha beta", chunks=2))
    list(open_stream(client, n=2))
    span = telemetry.span()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop", "stop")
    messages = decoded(span.attributes["gen_ai.output.messages"])
    assert [m["parts"] for m in messages] == [[{"type": "text", "content": "alpha beta"}]] * 2


# --------------------------------------------------------------------------- the stream() helper


def test_helper_stream_events_and_final_completion(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        deltas = [event.delta for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == TEXT
    assert final.choices[0].message.content == TEXT
    span = telemetry.span()
    assert span.attributes["gen_ai.response.id"] == final.id
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_helper_stream_left_early_ends_the_span_at_exit(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        next(iter(stream))
    assert stream is not None  # still referenced: the span must not wait for garbage collection
    assert len(telemetry.spans()) == 1


# --------------------------------------------------------------------------- async


async def test_async_stream_exhausted(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = await aclient.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    assert isinstance(stream, openai.AsyncStream)
    chunks = [c async for c in stream]
    span = telemetry.span()
    assert span.attributes["gen_ai.usage.output_tokens"] == chunks[-1].usage.completion_tokens
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == output_chunks(chunks) - 1


async def test_async_close_is_awaitable_and_ends_once(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = await aclient.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    await stream.__anext__()
    assert telemetry.spans() == []
    await stream.close()
    await stream.close()
    assert len(telemetry.spans()) == 1


async def test_async_with_exit_early(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    async with await aclient.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as stream:
        async for _ in stream:
            break
    assert len(telemetry.spans()) == 1


async def test_async_cancellation_ends_the_span(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8, chunk_delay=0.5))
    started = asyncio.Event()

    async def consume() -> None:
        stream = await aclient.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        async for _ in stream:
            started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = telemetry.span()
    assert span.attributes["error.type"] == "CancelledError"


async def test_async_stream_closed_from_another_task(aclient, fake, telemetry, instrumented, caplog):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = await aclient.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    await stream.__anext__()
    with caplog.at_level(logging.ERROR, logger="opentelemetry.context"):
        await asyncio.create_task(stream.close())
    assert not [r for r in caplog.records if "detach" in r.getMessage().lower()]
    assert len(telemetry.spans()) == 1


async def test_async_dropped_stream_ends_its_span(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    stream = await aclient.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    await stream.__anext__()
    del stream
    gc.collect()
    assert len(telemetry.spans()) == 1


async def test_async_helper_stream(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    async with aclient.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == TEXT
    assert telemetry.span().attributes["gen_ai.response.id"] == final.id


async def test_async_helper_left_early(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    async with aclient.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        async for _ in stream:
            break
    assert stream is not None
    assert len(telemetry.spans()) == 1


@pytest.mark.parametrize("azure", [True, False], ids=["AzureOpenAI", "OpenAI-compatible"])
def test_stream_opening_with_an_azure_prompt_filter_chunk_keeps_response_id_and_model(
    fake, fake_server, telemetry, instrumented, azure
):
    # Azure's first chunk has "id": "" and "model": "": the first non-empty values identify the response.
    fake.push(Reply(text=TEXT, chunks=4, prelude=[AZURE_PROMPT_FILTER_CHUNK]))
    if azure:
        client: Any = openai.AzureOpenAI(
            api_key=API_KEY, azure_endpoint=fake_server.url, api_version="2024-10-21", max_retries=0
        )
    else:
        client = openai.OpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, max_retries=0)
    with client:
        chunks = list(open_stream(client, stream_options={"include_usage": True}))
    assert (chunks[0].id, chunks[0].model) == ("", "")  # the SDK hands the filter chunk through as is
    response_id, response_model = chunks[1].id, chunks[1].model
    assert response_id and response_model

    attrs = telemetry.span().attributes
    assert attrs["gen_ai.response.id"] == response_id
    assert attrs["gen_ai.response.model"] == response_model
    for name in (sc.METRIC_OPERATION_DURATION, sc.METRIC_TOKEN_USAGE, sc.METRIC_TIME_TO_FIRST_CHUNK):
        points = telemetry.points(name)
        assert points, name
        assert {p.attributes.get("gen_ai.response.model") for p in points} == {response_model}, name
