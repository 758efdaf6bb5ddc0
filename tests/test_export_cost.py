"""The pipeline's export-cost choices (see benchmarks/load.py) change nothing that is exported."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_llm import setup


def test_the_resource_is_hashed_once_and_exported_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    for signal in ("TRACES", "METRICS", "LOGS"):
        monkeypatch.setenv(f"OTEL_{signal}_EXPORTER", "none")
    telemetry = setup(
        "export-cost",
        resource_attributes={"deployment.environment.name": "test"},
        instrument=False,
        gpu=False,
        set_global=False,
    )
    try:
        resource = telemetry.tracer_provider.resource
        plain = Resource.create({"service.name": "export-cost", "deployment.environment.name": "test"})
        assert resource == plain and plain == resource
        assert hash(resource) == hash(plain)
        assert dict(resource.attributes) == dict(plain.attributes)
        assert resource.merge(Resource({"k": "v"})).attributes["k"] == "v"

        spans = InMemorySpanExporter()
        telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        tracer = telemetry.tracer_provider.get_tracer("t")
        for _ in range(3):
            with tracer.start_as_current_span("chat m"):
                pass
        (resource_spans,) = encode_spans(spans.get_finished_spans()).resource_spans  # one resource, one group
        assert len(resource_spans.scope_spans[0].spans) == 3
        exported = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
        assert exported["service.name"] == "export-cost"
        assert exported["deployment.environment.name"] == "test"
    finally:
        telemetry.shutdown()
