"""google-genai streams: ``generate_content_stream`` (a generator function) and the async variant (a
coroutine returning an async generator), and every way such a stream can end."""

from __future__ import annotations

import gc
import types as pytypes
from typing import Any

import pytest
from google.genai import errors
from opentelemetry.trace import StatusCode

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import Reply
from tests.conftest import decoded
from tests.providers.google_genai.conftest import MODEL, base_attributes, gemini_client, words

PROMPT = "Tell me a short story."
TEXT = "Once upon a time a trace met a span and they lived happily."


def stream(client: Any, **kwargs: Any) -> Any:
    return client.models.generate_content_stream(model=MODEL, contents=kwargs.pop("contents", PROMPT), **kwargs)


def without_ttfc(attributes: Any) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if k != "gen_ai.response.time_to_first_chunk"}


def assert_chunk_metrics(telemetry: Any, span: Any, chunks: int) -> None:
    (first,) = telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.count == 1
    assert first.sum == pytest.approx(span.attributes["gen_ai.response.time_to_first_chunk"])
    (per_chunk,) = telemetry.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.count == chunks - 1


def test_sync_stream_exhausted(client, fake, fake_server, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=8))
    result = stream(client, config={"temperature": 0.7})
    assert isinstance(result, pytypes.GeneratorType)  # still the SDK's own kind of object
    assert telemetry.spans() == []  # lazy, like the SDK: nothing is sent before the first read
    chunks = list(result)
    assert "".join(c.text for c in chunks) == TEXT and len(chunks) == 8
    span = telemetry.span()
    assert span.name == f"generate_content {MODEL}"
    assert without_ttfc(span.attributes) == {
        **base_attributes(fake_server),
        "gen_ai.request.stream": True,
        "gen_ai.request.temperature": 0.7,
        "gen_ai.response.id": chunks[0].response_id,
        "gen_ai.response.model": chunks[0].model_version,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": words(PROMPT),
        "gen_ai.usage.output_tokens": words(TEXT),
    }
    assert_chunk_metrics(telemetry, span, 8)
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in telemetry.points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": words(PROMPT), "output": words(TEXT)}


async def test_async_stream_exhausted(aclient, fake, fake_server, telemetry, instrumented):
    fake.push(
        Reply(
            text=TEXT,
            chunks=5,
            usage={
                "promptTokenCount": 40,
                "cachedContentTokenCount": 32,
                "candidatesTokenCount": 12,
                "thoughtsTokenCount": 8,
            },
        )
    )
    result = await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT)
    assert isinstance(result, pytypes.AsyncGeneratorType)
    chunks = [c async for c in result]
    assert "".join(c.text for c in chunks) == TEXT
    span = telemetry.span()
    assert without_ttfc(span.attributes) == {
        **base_attributes(fake_server),
        "gen_ai.request.stream": True,
        "gen_ai.response.id": chunks[-1].response_id,
        "gen_ai.response.model": chunks[-1].model_version,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 40,
        "gen_ai.usage.cache_read.input_tokens": 32,
        "gen_ai.usage.output_tokens": 12 + 8,
        "gen_ai.usage.reasoning.output_tokens": 8,
    }
    assert_chunk_metrics(telemetry, span, 5)


def test_streamed_tool_call_and_text_are_captured(client, fake, telemetry, instrument):
    instrument(capture_content="SPAN_ONLY")
    fake.push(Reply(tool_calls=[{"name": "lookup", "arguments": '{"q": "otel"}'}]))
    calls = [part.function_call for chunk in stream(client) for part in chunk.candidates[0].content.parts]
    assert calls[0].name == "lookup"
    attrs = telemetry.spans()[-1].attributes
    assert attrs["gen_ai.response.finish_reasons"] == ("tool_call",)
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "finish_reason": "tool_call",
            "parts": [{"type": "tool_call", "name": "lookup", "arguments": {"q": "otel"}}],
        }
    ]

    fake.push(Reply(text=TEXT, chunks=6))
    list(stream(client))
    attrs = telemetry.spans()[-1].attributes
    assert decoded(attrs["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
    assert decoded(attrs["gen_ai.output.messages"]) == [
        {"role": "assistant", "finish_reason": "stop", "parts": [{"type": "text", "content": TEXT}]}
    ]


def test_connection_cut_mid_stream(fake_server, fake, telemetry, instrument):
    def run() -> type[BaseException]:
        fake.push(Reply(text=TEXT, chunks=10, cut_after=4))
        with gemini_client(fake_server) as c:
            with pytest.raises(Exception) as raised:
                list(stream(c))
        return type(raised.value)

    uninstrumented = run()
    instrument()
    assert run() is uninstrumented  # the user sees the SDK's own exception
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == uninstrumented.__name__
    assert "gen_ai.response.finish_reasons" not in span.attributes
    # Every chunk carries the usage so far: the prompt count arrived, the output count never did.
    assert span.attributes["gen_ai.usage.input_tokens"] == words(PROMPT)
    assert "gen_ai.usage.output_tokens" not in span.attributes


def test_error_event_inside_the_stream(client, fake, telemetry, instrumented):
    fake.push(
        Reply(text=TEXT, chunks=4, stream_error={"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"})
    )
    seen = []
    with pytest.raises(errors.ClientError) as raised:
        for chunk in stream(client):
            seen.append(chunk)
    assert raised.value.status == "RESOURCE_EXHAUSTED" and len(seen) == 4
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RESOURCE_EXHAUSTED"


def test_http_error_surfaces_on_first_read(client, fake, telemetry, instrumented):
    fake.push(Reply(status=503))
    result = stream(client)
    assert telemetry.spans() == []
    with pytest.raises(errors.ServerError):
        next(result)
    span = telemetry.span()
    assert span.attributes["error.type"] == "UNAVAILABLE"
    assert telemetry.points(sc.METRIC_TIME_TO_FIRST_CHUNK) == []


def test_closed_early_ends_span_once(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    result = stream(client)
    for _ in result:
        break
    assert telemetry.spans() == []
    result.close()
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert "gen_ai.response.finish_reasons" not in span.attributes
    del result
    gc.collect()
    assert len(telemetry.spans()) == 1


def test_dropped_stream_ends_its_span(client, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    result = stream(client)
    next(result)
    assert telemetry.spans() == []
    del result
    gc.collect()
    assert len(telemetry.spans()) == 1


async def test_async_stream_broken_then_aclosed(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    result = await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT)
    async for _ in result:
        break
    assert telemetry.spans() == []
    await result.aclose()
    assert len(telemetry.spans()) == 1
    assert telemetry.span().status.status_code is StatusCode.UNSET


async def test_async_stream_dropped(aclient, fake, telemetry, instrumented):
    fake.push(Reply(text=TEXT, chunks=10))
    result = await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT)
    await result.__anext__()
    assert telemetry.spans() == []
    del result
    gc.collect()
    assert len(telemetry.spans()) == 1


async def test_async_stream_http_error(aclient, fake, telemetry, instrumented):
    fake.push(Reply(status=429))
    result = await aclient.models.generate_content_stream(model=MODEL, contents=PROMPT)
    with pytest.raises(errors.ClientError):
        async for _ in result:
            pass
    assert telemetry.span().attributes["error.type"] == "RESOURCE_EXHAUSTED"


def get_time(city: str) -> str:
    """Current time in a city."""
    return f"12:00 in {city}"


@pytest.mark.parametrize("streamed", [False, True])
def test_automatic_function_calling_is_one_call(client, fake, telemetry, instrumented, streamed):
    """The SDK runs a Python function tool itself and asks again: two requests, one logical call, whose
    finish reason is the final answer's (not the intermediate function call's)."""
    fake.push(Reply(tool_calls=[{"name": "get_time", "arguments": '{"city": "Oslo"}'}]), Reply(text="It is noon."))
    kwargs: dict[str, Any] = {"model": MODEL, "contents": "What time is it in Oslo?", "config": {"tools": [get_time]}}
    if streamed:
        text = "".join(c.text or "" for c in client.models.generate_content_stream(**kwargs))
    else:
        text = client.models.generate_content(**kwargs).text
    assert text == "It is noon." and len(fake.exchanges) == 2
    span = telemetry.span()
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
