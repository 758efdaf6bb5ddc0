"""Instrumentor lifecycle and the never-break-the-host guarantees, with the real openai SDK."""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import subprocess
import sys
import threading

import httpx2
import openai
from openai.resources.chat.completions.completions import AsyncCompletions, Completions
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import SpanProcessor

from opentelemetry_instrumentation_llm.instrumentor import OpenAIInstrumentor
from opentelemetry_instrumentation_llm.providers import openai as openai_adapter
from opentelemetry_instrumentation_llm.testing import Reply
from tests.providers.openai.conftest import API_KEY

MESSAGES = [{"role": "user", "content": "hello"}]
ORIGINAL_CREATE = Completions.__dict__["create"]
ORIGINAL_ASYNC_CREATE = AsyncCompletions.__dict__["create"]


def call(client: openai.OpenAI, model: str = "gpt-4o") -> object:
    return client.chat.completions.create(model=model, messages=MESSAGES)


def test_uninstrument_restores_the_sdk(client, telemetry, instrument):
    instrumentor = instrument()
    assert Completions.__dict__["create"] is not ORIGINAL_CREATE
    instrumentor.uninstrument()
    assert Completions.__dict__["create"] is ORIGINAL_CREATE
    assert AsyncCompletions.__dict__["create"] is ORIGINAL_ASYNC_CREATE
    call(client)
    assert telemetry.spans() == []


def test_instrumenting_twice_does_not_double_spans(client, telemetry, instrument):
    instrument()
    instrument()
    call(client)
    assert len(telemetry.spans()) == 1


def test_suppress_instrumentation_is_honoured(client, telemetry, instrumented):
    with suppress_instrumentation():
        call(client)
        list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    assert telemetry.spans() == []


def test_a_call_made_inside_one_of_our_spans_gets_no_second_span(fake_server, fake, telemetry, instrumented):
    """A gateway-style nested call (here: an HTTP hook that calls the SDK again) is not double counted."""
    inner = openai.OpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, max_retries=0)
    nested: list[object] = []

    def on_request(request: httpx2.Request) -> None:
        if request.url.path.endswith("/chat/completions"):
            nested.append(inner.embeddings.create(model="text-embedding-3-small", input="nested"))

    http = httpx2.Client(event_hooks={"request": [on_request]})
    with openai.OpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, http_client=http, max_retries=0) as outer:
        call(outer)
    inner.close()
    assert len(nested) == 1
    assert [s.name for s in telemetry.spans()] == ["chat gpt-4o"]


def test_errors_in_our_request_parsing_never_reach_the_user(client, telemetry, instrument, monkeypatch, caplog):
    def broken(resource, kwargs):
        raise RuntimeError("adapter bug")

    monkeypatch.setattr(openai_adapter, "parse_chat_request", broken)
    instrument()
    with caplog.at_level(logging.DEBUG, logger="opentelemetry_instrumentation_llm"):
        results = [call(client) for _ in range(3)]
    assert all(r.choices[0].message.content == "echo: hello" for r in results)
    assert telemetry.spans() == []  # the call proceeded untraced
    reports = [r for r in caplog.records if "starting a span" in r.getMessage()]
    assert len(reports) == 1 and reports[0].levelno == logging.DEBUG  # logged once, at debug, not a flood


def test_errors_in_response_and_chunk_parsing_never_reach_the_user(client, fake, telemetry, instrument, monkeypatch):
    def broken_response(response, capture):
        raise RuntimeError("adapter bug")

    class BrokenAccumulator(openai_adapter.OpenAIChatStreamAccumulator):
        def add(self, chunk):
            raise RuntimeError("chunk bug")

    monkeypatch.setattr(openai_adapter, "parse_chat_response", broken_response)
    monkeypatch.setattr(openai_adapter, "OpenAIChatStreamAccumulator", BrokenAccumulator)
    instrument()
    assert call(client).choices[0].message.content == "echo: hello"
    fake.push(Reply(text="a b c", chunks=3))
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "a b c"
    plain, streamed = telemetry.spans()  # both spans still ended, with what could be recorded
    assert plain.attributes["gen_ai.request.model"] == "gpt-4o"
    assert streamed.attributes["gen_ai.request.stream"] is True


def test_a_failing_span_processor_does_not_fail_the_call(client, telemetry, instrumented):
    class Exploding(SpanProcessor):
        def on_start(self, span, parent_context=None):
            raise RuntimeError("processor bug")

    telemetry.tracer_provider.add_span_processor(Exploding())
    assert call(client).choices[0].message.content == "echo: hello"


def test_entry_point_is_registered_under_our_name():
    (entry_point,) = importlib.metadata.entry_points(group="opentelemetry_instrumentor", name="llm_openai")
    assert entry_point.load() is OpenAIInstrumentor
    assert tuple(OpenAIInstrumentor().instrumentation_dependencies()) == ("openai >= 3.0, < 4",)


def test_importing_the_package_imports_no_sdk():
    code = (
        "import sys, opentelemetry_instrumentation_llm, opentelemetry_instrumentation_llm.instrumentor;"
        "print(sorted(m for m in ('openai', 'anthropic', 'pynvml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- concurrency


def test_many_threads_each_get_their_own_span_and_parent(client, telemetry, instrumented):
    tracer = telemetry.tracer_provider.get_tracer("app")
    parents: dict[str, int] = {}
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            with tracer.start_as_current_span(f"job-{i}") as parent:
                parents[f"model-{i}"] = parent.get_span_context().span_id
                call(client, model=f"model-{i}")
        except BaseException as exc:  # noqa: BLE001 - fail open: instrumentation never breaks the call
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    llm_spans = [s for s in telemetry.spans() if s.name.startswith("chat ")]
    assert len(llm_spans) == 16
    for span in llm_spans:
        model = span.attributes["gen_ai.request.model"]
        assert span.name == f"chat {model}"
        assert span.attributes["gen_ai.response.model"] == f"{model}-2026-01-01"
        assert span.parent.span_id == parents[model]


async def test_many_tasks_streaming_at_once(aclient, telemetry, instrumented):
    tracer = telemetry.tracer_provider.get_tracer("app")
    parents: dict[str, int] = {}

    async def worker(i: int) -> str:
        with tracer.start_as_current_span(f"task-{i}") as parent:
            parents[f"model-{i}"] = parent.get_span_context().span_id
            stream = await aclient.chat.completions.create(
                model=f"model-{i}", messages=[{"role": "user", "content": f"task {i}"}], stream=True
            )
            pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
            assert trace.get_current_span() is parent
            return "".join(pieces)

    texts = await asyncio.gather(*(worker(i) for i in range(24)))
    assert texts == [f"echo: task {i}" for i in range(24)]
    llm_spans = [s for s in telemetry.spans() if s.name.startswith("chat ")]
    assert len(llm_spans) == 24
    for span in llm_spans:
        assert span.parent.span_id == parents[span.attributes["gen_ai.request.model"]]
        assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)


def test_instrumentation_does_not_keep_clients_alive(fake_server, fake, telemetry, instrumented):
    import gc
    import weakref

    client = openai.OpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, max_retries=0)
    call(client)
    ref = weakref.ref(client)
    client.close()
    del client
    gc.collect()
    assert ref() is None


def test_reassigned_base_url_is_reflected(fake_server, fake, telemetry, instrumented):
    with openai.OpenAI(api_key=API_KEY, base_url=fake_server.openai_base_url, max_retries=0) as client:
        call(client)
        client.base_url = fake_server.openai_base_url.replace("127.0.0.1", "localhost")
        call(client)
    first, second = telemetry.spans()
    assert (first.attributes["server.address"], second.attributes["server.address"]) == ("127.0.0.1", "localhost")
