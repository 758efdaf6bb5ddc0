"""The processors in front of real instrumentation: real SDK calls with content capture on."""

from __future__ import annotations

import openai
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_llm import OpenAIInstrumentor, semconv as sc
from opentelemetry_instrumentation_llm.processors import Processors, ProcessorSettings
from opentelemetry_instrumentation_llm.testing import Reply

SECRETS = ("jane.doe@example.com", "4111 1111 1111 1111", "sk-proj-" + "Q" * 40, "+44 20 7946 0958")
PROMPT = f"Email {SECRETS[0]}, card {SECRETS[1]}, key {SECRETS[2]}, call {SECRETS[3]}."


def pipeline(settings: ProcessorSettings):
    spans, logs, reader = InMemorySpanExporter(), InMemoryLogRecordExporter(), InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    chain = Processors.create(settings, meter_provider=meter_provider)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(chain.span_processor(SimpleSpanProcessor(spans)))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(chain.log_processor(SimpleLogRecordProcessor(logs)))
    return (
        spans,
        logs,
        reader,
        dict(tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider),
    )


def test_content_capture_with_redaction_leaks_nothing(fake_server, fake):
    spans, logs, _, providers = pipeline(ProcessorSettings.from_env({"OTEL_INSTRUMENTATION_LLM_REDACT": "all"}))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(**providers, capture_content="SPAN_AND_EVENT")
    try:
        fake.push(
            Reply(text=f"I will write to {SECRETS[0]} now."),
            Reply(
                status=400, error={"error": {"message": f"invalid card {SECRETS[1]}", "type": "invalid_request_error"}}
            ),
        )
        with openai.OpenAI(api_key=SECRETS[2], base_url=fake_server.openai_base_url, max_retries=0) as client:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": PROMPT}])
            try:
                client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": PROMPT}])
            except openai.BadRequestError:
                pass
    finally:
        instrumentor.uninstrument()
    exported = "\n".join(
        [s.to_json() for s in spans.get_finished_spans()]
        + [repr(dict(r.log_record.attributes)) for r in logs.get_finished_logs()]
    )
    assert len(spans.get_finished_spans()) == 2 and len(logs.get_finished_logs()) == 3  # 2 details, 1 exception
    for secret in SECRETS:
        assert secret not in exported
    assert "[REDACTED:email]" in exported and "[REDACTED:credit_card]" in exported
    assert "[REDACTED:openai_key]" in exported and "[REDACTED:phone]" in exported


def test_metrics_count_every_call_whatever_the_sampling(fake_server, fake):
    spans, logs, reader, providers = pipeline(ProcessorSettings(sampling_ratio=0.0))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(**providers, capture_content="EVENT_ONLY")
    try:
        with openai.OpenAI(api_key="sk-test", base_url=fake_server.openai_base_url, max_retries=0) as client:
            for _ in range(25):
                client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    finally:
        instrumentor.uninstrument()
    assert spans.get_finished_spans() == ()  # every trace sampled out...
    assert logs.get_finished_logs() == ()  # ...with its events...
    data = reader.get_metrics_data()
    durations = [
        p
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if m.name == sc.METRIC_OPERATION_DURATION
        for p in m.data.data_points
    ]
    assert sum(p.count for p in durations) == 25  # ...but the metrics count every call
