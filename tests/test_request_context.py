"""Request context: stamping, propagation across threads, tasks and a real HTTP hop, metric
allow-list and cardinality cap; and quality feedback events."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import openai
import pytest
from opentelemetry import baggage, context as otel_context, propagate, trace

from opentelemetry_instrumentation_llm import (
    OpenAIInstrumentor,
    bind_context,
    llm_context,
    record_feedback,
    request_context,
    semconv as sc,
)
from opentelemetry_instrumentation_llm.config import ConfigurationError
from opentelemetry_instrumentation_llm.feedback import recent_responses
from tests.conftest import instrument_fixture, plain

instrument = instrument_fixture(OpenAIInstrumentor)


@pytest.fixture(autouse=True)
def _fresh_state():
    request_context.reset()
    recent_responses.clear()
    yield
    request_context.reset()
    recent_responses.clear()


@pytest.fixture
def client(fake_server, fake):
    with openai.OpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=0) as c:
        yield c


def chat(client: openai.OpenAI, text: str = "hi") -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}])


def test_spans_inside_are_stamped(client, telemetry, instrument):
    instrument()
    with llm_context(
        session_id="sess-1",
        user_id="user-9",
        tenant_id="acme",
        feature="search",
        prompt_name="summarise",
        prompt_version="v3",
        experiment="b",
    ):
        chat(client)
    chat(client)
    inside, outside = telemetry.spans()
    stamped = {k: v for k, v in inside.attributes.items() if k not in outside.attributes}
    assert stamped == {
        "gen_ai.conversation.id": "sess-1",
        "session.id": "sess-1",
        "user.id": "user-9",
        "llm.tenant.id": "acme",
        "llm.feature.name": "search",
        "gen_ai.prompt.name": "summarise",
        "gen_ai.prompt.version": "v3",
        "llm.context.experiment": "b",
    }
    assert not [k for k in outside.attributes if k.startswith(("llm.", "session.", "user."))]


def test_nesting_adds_and_overrides(client, telemetry, instrument):
    instrument()
    with llm_context(tenant_id="acme", feature="search"), llm_context(feature="chat"):
        chat(client)
    assert (telemetry.span().attributes["llm.tenant.id"], telemetry.span().attributes["llm.feature.name"]) == (
        "acme",
        "chat",
    )


async def test_decorator_and_concurrent_tasks(fake_server, fake, telemetry, instrument):
    instrument()
    aclient = openai.AsyncOpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=0)

    @llm_context(feature="decorated")
    async def decorated(tenant: str) -> None:
        with llm_context(tenant_id=tenant):
            await asyncio.sleep(0)  # let the other tasks interleave
            await aclient.chat.completions.create(model=f"m-{tenant}", messages=[{"role": "user", "content": "x"}])

    await asyncio.gather(*(decorated(f"t{i}") for i in range(10)))
    await aclient.close()
    for span in telemetry.spans():
        assert span.attributes["llm.tenant.id"] == span.attributes["gen_ai.request.model"][2:]
        assert span.attributes["llm.feature.name"] == "decorated"


def test_threads_with_bind_context(client, telemetry, instrument):
    instrument()
    with llm_context(tenant_id="acme"), ThreadPoolExecutor(4) as pool:
        list(pool.map(bind_context(lambda _: chat(client)), range(4)))
    assert [s.attributes.get("llm.tenant.id") for s in telemetry.spans()] == ["acme"] * 4


def test_a_real_http_hop_carries_the_context_as_baggage(client, telemetry, instrument):
    """Service A calls service B over HTTP with the standard propagators; B's LLM call is stamped
    with A's session, tenant and feature, but not A's user id (kept in-process by default)."""
    instrument()
    seen: dict[str, Any] = {}

    class ServiceB(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen["baggage"] = self.headers.get("baggage")
            token = otel_context.attach(propagate.extract(dict(self.headers)))
            try:
                chat(client, "from service b")
            finally:
                otel_context.detach(token)
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ServiceB)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with llm_context(session_id="s-42", user_id="alice", tenant_id="acme", feature="qa"):
            headers: dict[str, str] = {}
            propagate.inject(headers)  # what an instrumented HTTP client does
            assert httpx2.get(f"http://127.0.0.1:{server.server_address[1]}/", headers=headers).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
    assert "alice" not in seen["baggage"]
    attrs = telemetry.span().attributes
    stamped = (attrs["gen_ai.conversation.id"], attrs["llm.tenant.id"], attrs["llm.feature.name"])
    assert stamped == ("s-42", "acme", "qa")
    assert "user.id" not in attrs


def test_user_id_travels_only_when_asked():
    with llm_context(user_id="alice"):
        assert "user.id" not in baggage.get_all()
    with llm_context(user_id="alice", propagate=("user_id",)):
        assert baggage.get_all()["user.id"] == "alice"


def test_metrics_get_only_tenant_and_feature(client, telemetry, instrument):
    instrument()
    with llm_context(session_id="s", user_id="u", tenant_id="acme", feature="search"):
        chat(client)
    for name in (sc.METRIC_OPERATION_DURATION, sc.METRIC_TOKEN_USAGE):
        for point in telemetry.points(name):
            assert point.attributes["llm.tenant.id"] == "acme"
            assert point.attributes["llm.feature.name"] == "search"
            assert not {"user.id", "session.id", "gen_ai.conversation.id"} & set(point.attributes)


def test_the_cardinality_cap_folds_values_into_other(client, telemetry, instrument, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_METRIC_CONTEXT_MAX_VALUES", "3")
    instrument()
    for i in range(7):
        with llm_context(tenant_id=f"tenant-{i}"):
            chat(client)
    counts = {p.attributes["llm.tenant.id"]: p.count for p in telemetry.points(sc.METRIC_OPERATION_DURATION)}
    assert counts == {"tenant-0": 1, "tenant-1": 1, "tenant-2": 1, "_OTHER": 4}
    # Spans keep the real value: only metrics are capped.
    assert [s.attributes["llm.tenant.id"] for s in telemetry.spans()] == [f"tenant-{i}" for i in range(7)]


def test_high_cardinality_keys_are_refused_on_metrics(monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_METRIC_CONTEXT", "tenant_id,user_id")
    with pytest.raises(ConfigurationError, match=r"OTEL_INSTRUMENTATION_LLM_METRIC_CONTEXT.*user_id"):
        request_context.metric_context()


# --------------------------------------------------------------------------- feedback


def test_feedback_by_response_id_is_parented_to_the_call(client, telemetry, instrument):
    instrument()
    completion = chat(client)
    assert record_feedback(
        "helpfulness",
        score=0.8,
        label="good",
        explanation="answered the question",
        response_id=completion.id,
        logger_provider=telemetry.logger_provider,
    )
    (event,) = telemetry.events(sc.EVENT_EVALUATION_RESULT)
    span = telemetry.span()
    assert (event.trace_id, event.span_id) == (span.context.trace_id, span.context.span_id)
    assert plain(dict(event.attributes)) == {
        "gen_ai.evaluation.name": "helpfulness",
        "gen_ai.evaluation.score.value": 0.8,
        "gen_ai.evaluation.score.label": "good",
        "gen_ai.evaluation.explanation": "answered the question",
        "gen_ai.response.id": completion.id,
    }


def test_feedback_by_span_context(client, telemetry, instrument):
    instrument()
    tracer = telemetry.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request") as request_span:
        chat(client)
        span_context = request_span.get_span_context()
    assert record_feedback("user_rating", score=1, span_context=span_context, logger_provider=telemetry.logger_provider)
    (event,) = telemetry.events(sc.EVENT_EVALUATION_RESULT)
    assert event.span_id == span_context.span_id
    assert "gen_ai.response.id" not in event.attributes


def test_feedback_for_an_unknown_call_still_carries_the_response_id(telemetry):
    assert not record_feedback(
        "user_rating", label="thumbs_down", response_id="chatcmpl-unknown", logger_provider=telemetry.logger_provider
    )
    (event,) = telemetry.events(sc.EVENT_EVALUATION_RESULT)
    assert event.trace_id == 0 and event.attributes["gen_ai.response.id"] == "chatcmpl-unknown"


def test_response_ids_are_remembered_boundedly(client, telemetry, instrument, monkeypatch, fake):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_FEEDBACK_MAX_RESPONSES", "2")
    instrument()
    from opentelemetry_instrumentation_llm.testing import Reply

    ids = []
    for i in range(3):
        fake.push(Reply(extra={"id": f"chatcmpl-{i}"}))
        ids.append(chat(client).id)
    assert recent_responses.find(ids[0]) is None
    assert recent_responses.find(ids[2]) is not None


@pytest.mark.parametrize("kwargs", [{"name": ""}, {"name": "x"}])
def test_feedback_needs_a_name_and_a_score_or_label(kwargs):
    with pytest.raises(ValueError):
        record_feedback(**kwargs)


def test_nothing_is_stamped_outside_any_context():
    assert request_context.current_values() == {}
    assert json.dumps(request_context.span_attributes({})) == "{}"
    assert trace.get_current_span().get_span_context().is_valid is False
