"""setup() end to end: real SDKs -> our pipeline -> OTLP -> a real collector (rotel) -> sink."""

from __future__ import annotations

import logging
from typing import Any

import anthropic
import openai
import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from opentelemetry_instrumentation_llm import semconv as sc, setup
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.e2e.collector import OTLPSink, Rotel, wait_until

SERVICE = "llm-e2e-test"


def make_calls(server: FakeLLMServer, tag: str, count: int = 1) -> None:
    """A small app: OpenAI chat + stream and an Anthropic message, ``count`` times."""
    with (
        openai.OpenAI(api_key="sk-e2e", base_url=server.openai_base_url, max_retries=0) as oai,
        anthropic.Anthropic(api_key="sk-ant-e2e", base_url=server.anthropic_base_url, max_retries=0) as ant,
    ):
        for _ in range(count):
            oai.chat.completions.create(model=f"gpt-4o-{tag}", messages=[{"role": "user", "content": f"hi {tag}"}])
            list(
                oai.chat.completions.create(
                    model=f"gpt-4o-{tag}",
                    messages=[{"role": "user", "content": "s"}],
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )
            ant.messages.create(model=f"claude-{tag}", max_tokens=32, messages=[{"role": "user", "content": "x"}])


def llm_spans(sink: OTLPSink) -> list[Any]:
    return [s for s in sink.spans() if s.scope.startswith("opentelemetry_instrumentation_llm.")]


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_spans_metrics_and_events_arrive_intact(
    protocol, collector: Rotel, sink: OTLPSink, fake_server, fake, monkeypatch
):
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=e2e,team=llm-platform")
    endpoint = collector.grpc_endpoint if protocol == "grpc" else collector.http_endpoint
    handle = setup(SERVICE, endpoint=endpoint, protocol=protocol, set_global=False, capture_content="SPAN_AND_EVENT")
    assert handle.instrumented[:2] == ["openai", "anthropic"]  # then every other installed SDK
    make_calls(fake_server, "a")
    handle.shutdown()

    wait_until(
        lambda: (
            len(llm_spans(sink)) >= 3
            and sc.METRIC_TOKEN_USAGE in sink.metrics()
            and any(r.event_name == sc.EVENT_INFERENCE_DETAILS for r in sink.logs())
        ),
        20,
        "telemetry at the sink",
    )
    spans = llm_spans(sink)
    assert sorted(s.name for s in spans) == ["chat claude-a", "chat gpt-4o-a", "chat gpt-4o-a"]
    for span in spans:
        assert span.resource["service.name"] == SERVICE
        assert span.resource["deployment.environment.name"] == "e2e"
        assert span.resource["team"] == "llm-platform"
    chat = next(s for s in spans if s.name == "chat gpt-4o-a" and "gen_ai.request.stream" not in s.attributes)
    assert chat.attributes["gen_ai.provider.name"] == "openai"
    assert chat.attributes["gen_ai.usage.input_tokens"] == 2  # "hi a": ints survive as ints
    assert chat.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert chat.attributes["gen_ai.input.messages"] == '[{"role":"user","parts":[{"type":"text","content":"hi a"}]}]'

    metrics = sink.metrics()
    for name, unit, bounds in (
        (sc.METRIC_OPERATION_DURATION, "s", sc.DURATION_BUCKETS),
        (sc.METRIC_TOKEN_USAGE, "{token}", sc.TOKEN_BUCKETS),
    ):
        resource, metric = metrics[name][0]
        assert resource["service.name"] == SERVICE
        assert metric.unit == unit
        points = metric.histogram.data_points
        assert points and all(tuple(p.explicit_bounds) == bounds for p in points)
    assert sc.METRIC_TIME_TO_FIRST_CHUNK in metrics and sc.METRIC_TIME_PER_OUTPUT_CHUNK in metrics

    details = [r for r in sink.logs() if r.event_name == sc.EVENT_INFERENCE_DETAILS]
    assert len(details) == 3
    event = next(
        r
        for r in details
        if r.attributes.get("gen_ai.request.model") == "gpt-4o-a" and "gen_ai.request.stream" not in r.attributes
    )
    assert event.attributes["gen_ai.input.messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": "hi a"}]}
    ]  # structured, not JSON text
    assert event.trace_id == chat.trace_id and event.span_id == chat.span_id


def test_collector_down_at_start_then_up(sink_and_collector, fake_server, fake):
    sink, collector = sink_and_collector
    handle = setup(SERVICE, endpoint=collector.grpc_endpoint, set_global=False, export_timeout=2)
    make_calls(fake_server, "down")  # nothing listens: the app must not notice
    handle.tracer_provider.force_flush(5_000)
    collector.start()
    make_calls(fake_server, "up")
    handle.shutdown()
    wait_until(
        lambda: any(s.name == "chat claude-up" for s in llm_spans(sink)), 20, "spans after the collector came up"
    )
    assert {s.name for s in llm_spans(sink)} >= {"chat gpt-4o-up", "chat claude-up"}


def test_collector_killed_mid_run_and_restarted(collector: Rotel, sink: OTLPSink, fake_server, fake):
    handle = setup(SERVICE, endpoint=collector.grpc_endpoint, set_global=False, export_timeout=2)
    make_calls(fake_server, "before")
    handle.tracer_provider.force_flush(10_000)
    wait_until(lambda: any(s.name == "chat claude-before" for s in llm_spans(sink)), 20, "spans before the kill")
    collector.kill()
    make_calls(fake_server, "during", count=3)  # collector gone: calls still succeed
    collector.start()
    make_calls(fake_server, "after")
    handle.shutdown()
    wait_until(lambda: any(s.name == "chat claude-after" for s in llm_spans(sink)), 20, "spans after the restart")
    names = {s.name for s in llm_spans(sink)}
    assert {"chat gpt-4o-before", "chat gpt-4o-after", "chat claude-after"} <= names


def test_shutdown_flushes_pending_data(collector: Rotel, sink: OTLPSink, fake_server, fake, monkeypatch):
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")  # nothing leaves before shutdown...
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "600000")
    handle = setup(SERVICE, endpoint=collector.grpc_endpoint, set_global=False)
    make_calls(fake_server, "pending", count=4)
    assert llm_spans(sink) == []
    handle.shutdown()  # ...and everything leaves at shutdown
    wait_until(
        lambda: len(llm_spans(sink)) == 12 and sc.METRIC_OPERATION_DURATION in sink.metrics(),
        20,
        "all pending spans and metrics",
    )
    scopes = sink.metrics()[sc.METRIC_OPERATION_DURATION]  # one stream per instrumentation scope
    assert sum(p.count for _, m in scopes for p in m.histogram.data_points) == 12


def test_full_queue_drops_are_counted_and_logged_once(sink_and_collector, fake_server, fake, monkeypatch, caplog):
    _, collector = sink_and_collector  # never started: every export attempt fails slowly
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "2")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2")
    reader = InMemoryMetricReader()
    handle = setup(
        SERVICE, endpoint=collector.grpc_endpoint, set_global=False, export_timeout=3, metric_readers=[reader]
    )
    with caplog.at_level(logging.WARNING):
        make_calls(fake_server, "flood", count=6)
    data = reader.get_metrics_data()
    dropped = [
        p
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == "otel.sdk.processor.span.processed"
        for p in m.data.data_points
        if p.attributes.get("error.type") == "queue_full"
    ]
    assert dropped and sum(p.value for p in dropped) > 0
    assert len([r for r in caplog.records if "Queue full" in r.getMessage()]) == 1
    handle.shutdown()


def test_setup_is_idempotent_and_registers_globals(collector: Rotel, fake_server, fake):
    from opentelemetry import trace

    first = setup(SERVICE, endpoint=collector.grpc_endpoint)
    assert setup("another-name") is first
    assert trace.get_tracer_provider() is first.tracer_provider or isinstance(
        trace.get_tracer_provider(), type(first.tracer_provider)
    )
    first.shutdown()
    first.shutdown()  # idempotent
    assert first.is_shut_down
