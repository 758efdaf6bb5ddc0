"""Shared fixtures: one fake provider server for every provider test, and in-memory telemetry."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_llm.testing import FakeLLM, FakeLLMServer

# litellm fetches its model price map from GitHub at import unless told not to; tests run offline
# (and so do the subprocesses they start, which inherit this).
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeLLMServer) -> Iterator[FakeLLM]:
    fake_server.fake.reset()
    yield fake_server.fake
    fake_server.fake.reset()


@dataclass
class Telemetry:
    """In-memory SDK providers and readers for one test."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    span_exporter: InMemorySpanExporter
    metric_reader: InMemoryMetricReader
    log_exporter: InMemoryLogRecordExporter

    @property
    def providers(self) -> dict[str, Any]:
        return {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "logger_provider": self.logger_provider,
        }

    def spans(self) -> list[ReadableSpan]:
        return list(self.span_exporter.get_finished_spans())

    def span(self) -> ReadableSpan:
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def logs(self) -> list[Any]:
        return [entry.log_record for entry in self.log_exporter.get_finished_logs()]

    def events(self, name: str) -> list[Any]:
        return [record for record in self.logs() if record.event_name == name]

    def metrics(self) -> dict[str, Any]:
        """Metric name -> Metric, across scopes (each test uses one instrumentor)."""
        found: dict[str, Any] = {}
        data = self.metric_reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    assert metric.name not in found, f"duplicate metric stream {metric.name}"
                    found[metric.name] = metric
        return found

    def points(self, name: str) -> list[Any]:
        metric = self.metrics().get(name)
        return list(metric.data.data_points) if metric else []


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    logs = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    yield Telemetry(tracer_provider, meter_provider, logger_provider, spans, reader, logs)
    gc.collect()  # finalise dropped streams of this test before the providers go
    tracer_provider.shutdown()
    meter_provider.shutdown()
    logger_provider.shutdown()


def everything_exported(telemetry: Any) -> str:
    """Every exported string: span names, attributes, events, log bodies/attributes, metric attributes."""
    parts: list[str] = []
    for span in telemetry.spans():
        parts.append(span.name)
        parts.append(repr(dict(span.attributes)))
        parts.extend(repr((e.name, dict(e.attributes))) for e in span.events)
        parts.append(repr(span.status.description))
    for record in telemetry.logs():
        parts.append(repr((record.event_name, record.body, dict(record.attributes or {}))))
    for metric in telemetry.metrics().values():
        parts.extend(repr(dict(p.attributes)) for p in metric.data.data_points)
    return "\n".join(parts)


def decoded(value: Any) -> Any:
    """A content attribute as a structure (span attributes carry JSON text)."""
    return json.loads(value) if isinstance(value, str) else value


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from defaults, whatever the developer's shell exports."""

    for name in list(os.environ):
        if name.startswith(("OTEL_INSTRUMENTATION_GENAI_", "OTEL_INSTRUMENTATION_LLM_", "OTEL_SEMCONV")):
            monkeypatch.delenv(name)


def plain(value: Any) -> Any:
    """Structured attribute values as plain lists/dicts (the SDK stores sequences as tuples)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: plain(v) for k, v in value.items()}
    return value


@pytest.fixture(autouse=True)
def _fresh_failure_reports() -> None:
    """Internal failures are reported once per process; each test starts with none reported."""
    from opentelemetry_instrumentation_llm._core import guard

    guard._reported.clear()
    guard._noted.clear()


def instrument_fixture(instrumentor_type: type) -> Any:
    """A fixture ``instrument(**kwargs)`` that instruments one SDK with the test's in-memory
    providers and uninstruments it afterwards."""

    @pytest.fixture
    def instrument(telemetry: Telemetry) -> Iterator[Any]:
        used: list[Any] = []

        def _instrument(**kwargs: Any) -> Any:
            instrumentor = instrumentor_type()
            instrumentor.instrument(**telemetry.providers, **kwargs)
            used.append(instrumentor)
            return instrumentor

        yield _instrument
        for instrumentor in used:
            instrumentor.uninstrument()

    return instrument


def fingerprint_attribute(system: Any = None, tools: Any = None) -> dict[str, str]:
    """The ``llm.prompt.fingerprint`` attribute (unkeyed, the default) of a call with this template:
    the system instructions and tool definitions as the SDK was given them; {} when neither."""
    from opentelemetry_instrumentation_llm._core.fingerprint import PromptFingerprints

    found = PromptFingerprints().of(system, tools)
    return {} if found is None else {"llm.prompt.fingerprint": found}
