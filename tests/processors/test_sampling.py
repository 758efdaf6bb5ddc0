"""Tail sampling: errors and slow traces always kept, the rest at the ratio, whole traces together,
bounded under a flood, held traces released on timeout and shutdown, events follow their trace."""

from __future__ import annotations

import random
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased
from opentelemetry.trace import Status, StatusCode

from opentelemetry_instrumentation_llm.processors import (
    SamplingLogRecordProcessor,
    SamplingSpanProcessor,
    TraceSampler,
    ratio_keeps,
)


class SeededIds(IdGenerator):
    """Reproducible random ids, so ratio checks do not depend on luck."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def generate_span_id(self) -> int:
        return self._random.getrandbits(64)

    def generate_trace_id(self) -> int:
        return self._random.getrandbits(128)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    def __init__(self, ratio: float, seed: int = 7, **kwargs: Any) -> None:
        self.spans = InMemorySpanExporter()
        self.logs = InMemoryLogRecordExporter()
        self.reader = InMemoryMetricReader()
        self.clock = FakeClock()
        self.sampler = TraceSampler(
            ratio, meter_provider=MeterProvider(metric_readers=[self.reader]), clock=self.clock, **kwargs
        )
        self.tracer_provider = TracerProvider(id_generator=SeededIds(seed))
        self.tracer_provider.add_span_processor(SamplingSpanProcessor(SimpleSpanProcessor(self.spans), self.sampler))
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(
            SamplingLogRecordProcessor(SimpleLogRecordProcessor(self.logs), self.sampler)
        )
        self.tracer = self.tracer_provider.get_tracer("test")
        self.logger = self.logger_provider.get_logger("test")

    def trace(
        self,
        children: int = 2,
        error_at: int | None = None,
        slow_child_ms: float | None = None,
        end_root: bool = True,
        log: bool = False,
    ) -> int:
        root = self.tracer.start_span("handler")
        from opentelemetry import trace as trace_api

        with trace_api.use_span(root, end_on_exit=False):
            for i in range(children):
                start = 1_000_000_000
                attrs = {"gen_ai.operation.name": "chat"}
                child = self.tracer.start_span(f"chat {i}", attributes=attrs, start_time=start)
                if error_at == i:
                    child.set_status(Status(StatusCode.ERROR, "boom"))
                duration_ns = int((slow_child_ms if slow_child_ms is not None else 5) * 1e6)
                if log:
                    with trace_api.use_span(child, end_on_exit=False):
                        self.logger.emit(event_name="gen_ai.client.inference.operation.details", attributes={"i": i})
                child.end(end_time=start + duration_ns)
        if end_root:
            root.end()
        return root.get_span_context().trace_id

    def exported_traces(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for span in self.spans.get_finished_spans():
            counts[span.context.trace_id] = counts.get(span.context.trace_id, 0) + 1
        return counts

    def counter(self, name: str) -> dict[tuple[tuple[str, Any], ...], float]:
        data = self.reader.get_metrics_data()
        found = {}
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            found[tuple(sorted(point.attributes.items()))] = point.value
        return found


def test_decision_agrees_with_the_sdk_head_sampler():
    rng = random.Random(3)
    for ratio in (0.0, 0.01, 0.1, 0.5, 0.9, 1.0):
        head = TraceIdRatioBased(ratio)
        for _ in range(2000):
            trace_id = rng.getrandbits(128)
            sdk = head.should_sample(None, trace_id, "x").decision is Decision.RECORD_AND_SAMPLE
            assert ratio_keeps(trace_id, ratio) == sdk


def test_kept_fraction_is_close_to_the_ratio_and_traces_stay_whole():
    """20,000 three-span traces at 10%: the kept fraction is within 0.01 of 0.1 (the binomial
    standard deviation is 0.0021, so this is a ~5-sigma band), and every trace is all or nothing."""
    harness = Harness(0.1)
    ids = [harness.trace(children=2) for _ in range(20_000)]
    exported = harness.exported_traces()
    assert set(exported) <= set(ids)
    assert all(count == 3 for count in exported.values())
    assert abs(len(exported) / len(ids) - 0.1) < 0.01
    assert harness.sampler.held_traces == 0


def test_errors_are_always_kept_whole():
    harness = Harness(0.0)
    errored = [harness.trace(children=3, error_at=i % 3) for i in range(200)]
    plain = [harness.trace(children=3) for _ in range(200)]
    exported = harness.exported_traces()
    assert set(exported) == set(errored)
    assert all(exported[t] == 4 for t in errored)
    assert not set(plain) & set(exported)
    counts = harness.counter("llm.sampling.traces")
    assert counts[(("decision", "kept"), ("reason", "error"), ("trigger", "root_ended"))] == 200
    assert counts[(("decision", "dropped"), ("reason", "not_sampled"), ("trigger", "root_ended"))] == 200


def test_error_type_attribute_alone_keeps_the_trace():
    harness = Harness(0.0)
    root = harness.tracer.start_span("call", attributes={"error.type": "RateLimitError"})
    root.end()
    assert len(harness.spans.get_finished_spans()) == 1


def test_slow_genai_calls_are_kept():
    harness = Harness(0.0, slow_ms=100)
    slow = [harness.trace(slow_child_ms=150) for _ in range(50)]
    fast = [harness.trace(slow_child_ms=99) for _ in range(50)]
    exported = harness.exported_traces()
    assert set(exported) == set(slow)
    assert not set(fast) & set(exported)


def test_events_follow_their_trace():
    harness = Harness(0.0)
    kept = harness.trace(children=2, error_at=1, log=True)
    dropped = harness.trace(children=2, log=True)
    harness.logger.emit(event_name="outside.any.trace", attributes={"x": 1})
    logged = [(r.log_record.trace_id, r.log_record.event_name) for r in harness.logs.get_finished_logs()]
    assert sorted(logged, key=str) == sorted(
        [(kept, "gen_ai.client.inference.operation.details")] * 2 + [(0, "outside.any.trace")], key=str
    )
    assert dropped not in {t for t, _ in logged}


def test_bounded_under_a_flood_of_never_ending_traces():
    harness = Harness(0.0, max_traces=100, max_spans_per_trace=50)
    for _ in range(5000):
        harness.trace(children=3, end_root=False)
        assert harness.sampler.held_traces <= 100
    assert harness.sampler.held_spans <= 100 * 50
    counts = harness.counter("llm.sampling.traces")
    evicted = sum(v for k, v in counts.items() if ("trigger", "evicted") in k)
    assert evicted >= 4900


def test_span_cap_per_trace_decides_early():
    harness = Harness(0.0, max_spans_per_trace=10)
    harness.trace(children=25, end_root=False)
    assert harness.sampler.held_spans < 10


def test_timeout_decides_held_traces():
    harness = Harness(1.0, decision_wait=30)
    trace_id = harness.trace(children=2, end_root=False)
    assert harness.exported_traces() == {}
    harness.clock.now += 31
    harness.sampler.expire()
    assert harness.exported_traces() == {trace_id: 2}


def test_held_traces_are_released_on_shutdown():
    harness = Harness(1.0)
    trace_id = harness.trace(children=2, end_root=False)
    assert harness.exported_traces() == {}
    harness.tracer_provider.shutdown()
    assert harness.exported_traces() == {trace_id: 2}


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_invalid_ratio(ratio):
    with pytest.raises(ValueError):
        TraceSampler(ratio)
