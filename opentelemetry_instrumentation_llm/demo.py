"""A self-contained demo: real SDKs, instrumented, against an embedded fake provider on loopback.

    python -m opentelemetry_instrumentation_llm.demo

No API key and no network: a fake OpenAI/Anthropic-compatible server runs in-process. The demo
makes a handful of typical calls (chat, a stream, a tool call, embeddings, a rate-limited call),
then prints a summary of the spans, metrics and events that were produced. With
``OTEL_EXPORTER_OTLP_ENDPOINT`` set, everything is also exported over OTLP to that collector.
Set ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT`` to see content capture.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_llm.testing import FakeLLMServer, Reply


class DemoTelemetry:
    """In-memory providers for the summary, plus OTLP exporters when an endpoint is configured."""

    def __init__(self) -> None:
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "llm-demo")})
        self.spans = InMemorySpanExporter()
        self.logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.metrics = InMemoryMetricReader()
        readers: list[MetricReader] = [self.metrics]
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs))
        self.otlp = bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
        if self.otlp:
            readers.append(self._add_otlp())
        self.meter_provider = MeterProvider(resource=resource, metric_readers=readers)

    def _add_otlp(self) -> MetricReader:
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc").startswith("http"):
            from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        else:
            from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter  # type: ignore[assignment]
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (  # type: ignore[assignment]
                OTLPMetricExporter,
            )
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[assignment]
                OTLPSpanExporter,
            )
        self.tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        self.logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
        return PeriodicExportingMetricReader(OTLPMetricExporter())

    @property
    def providers(self) -> dict[str, Any]:
        return {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "logger_provider": self.logger_provider,
        }

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


def _openai_calls(server: FakeLLMServer) -> list[tuple[str, Callable[[], Any]]]:
    # long: one small closure per demonstrated call; they read best side by side.
    import openai

    client = openai.OpenAI(api_key="sk-demo-not-a-real-key", base_url=server.openai_base_url, max_retries=0)
    fake = server.fake

    def chat() -> str:
        fake.push(Reply(text="Paris is the capital of France."))
        r = client.chat.completions.create(
            model="gpt-4o",
            messages=[
                {"role": "system", "content": "Answer in one sentence."},
                {"role": "user", "content": "What is the capital of France?"},
            ],
            temperature=0.2,
        )
        return r.choices[0].message.content or ""

    def stream() -> str:
        fake.push(Reply(text="Traces, metrics and logs make systems observable.", chunks=12))
        s = client.chat.completions.create(
            model="gpt-4o-mini",
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "Define observability."}],
        )
        return "".join(c.choices[0].delta.content or "" for c in s if c.choices)

    def tool_call() -> str:
        fake.push(Reply(tool_calls=[{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Lyon"}'}]))
        r = client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Weather in Lyon?"}],
            tools=[{"type": "function", "function": {"name": "get_weather"}}],
        )
        call = r.choices[0].message.tool_calls[0]  # type: ignore[index]
        return f"tool call {call.function.name}({call.function.arguments})"  # type: ignore[union-attr]

    def responses() -> str:
        return client.responses.create(model="gpt-5", input="Say hi", instructions="Be brief.").output_text

    def embeddings() -> str:
        r = client.embeddings.create(model="text-embedding-3-small", input=["observability", "tracing"])
        return f"{len(r.data)} vectors of {len(r.data[0].embedding)} dimensions"

    def rate_limited() -> str:
        fake.push(Reply(status=429))
        try:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "again"}])
        except openai.RateLimitError as exc:
            return f"raised {type(exc).__name__} (status {exc.status_code}), as the SDK does"
        return "no error?"

    async def async_chat() -> str:
        async with openai.AsyncOpenAI(api_key="sk-demo", base_url=server.openai_base_url, max_retries=0) as ac:
            r = await ac.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "async hello"}]
            )
            return r.choices[0].message.content or ""

    return [
        ("openai chat", chat),
        ("openai stream", stream),
        ("openai tool call", tool_call),
        ("openai responses", responses),
        ("openai embeddings", embeddings),
        ("openai rate limited", rate_limited),
        ("openai async chat", lambda: asyncio.run(async_chat())),
    ]


def _anthropic_calls(server: FakeLLMServer) -> list[tuple[str, Callable[[], Any]]]:
    import anthropic

    client = anthropic.Anthropic(
        api_key="sk-ant-demo-not-a-real-key", base_url=server.anthropic_base_url, max_retries=0
    )
    fake = server.fake

    def message() -> str:
        fake.push(Reply(text="Hello from a fake Claude."))
        r = client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=256,
            system="Be friendly.",
            messages=[{"role": "user", "content": "Say hello"}],
        )
        return r.content[0].text  # type: ignore[union-attr]

    def stream() -> str:
        fake.push(Reply(text="Streaming tokens one at a time.", chunks=6))
        with client.messages.stream(
            model="claude-haiku-4-5", max_tokens=128, messages=[{"role": "user", "content": "Stream something"}]
        ) as s:
            return "".join(s.text_stream)

    return [("anthropic message", message), ("anthropic stream", stream)]


def _run_calls(out: TextIO, server: FakeLLMServer) -> None:
    calls: list[tuple[str, Callable[[], Any]]] = []
    if importlib.util.find_spec("openai"):
        calls += _openai_calls(server)
    if importlib.util.find_spec("anthropic"):
        calls += _anthropic_calls(server)
    if not calls:
        out.write("Neither openai nor anthropic is installed: pip install 'opentelemetry-instrumentation-llm[demo]'\n")
    out.write("Calls made by the demo app:\n")
    for label, call in calls:
        out.write(f"  {label:22} -> {call()}\n")


def _summary(out: TextIO, telemetry: DemoTelemetry) -> None:
    _span_summary(out, telemetry)
    _metric_summary(out, telemetry)
    _event_summary(out, telemetry)
    capture = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "NO_CONTENT")
    out.write(
        f"\nContent capture: {capture} (set OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_AND_EVENT "
        "to record prompts and completions).\n"
    )
    if telemetry.otlp:
        out.write(f"Also exported over OTLP to {os.environ['OTEL_EXPORTER_OTLP_ENDPOINT']}.\n")


def _span_summary(out: TextIO, telemetry: DemoTelemetry) -> None:
    spans = sorted(telemetry.spans.get_finished_spans(), key=lambda s: s.start_time or 0)
    out.write(f"\nSpans ({len(spans)}):\n")
    out.write(f"  {'name':34} {'ms':>7} {'in':>5} {'out':>5}  {'finish':14} status\n")
    for span in spans:
        a = span.attributes or {}
        ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
        status = a.get("error.type") or span.status.status_code.name
        finish = ",".join(a.get("gen_ai.response.finish_reasons", ()))  # type: ignore[arg-type]
        out.write(
            f"  {span.name:34} {ms:7.1f} {a.get('gen_ai.usage.input_tokens', '-')!s:>5} "
            f"{a.get('gen_ai.usage.output_tokens', '-')!s:>5}  {finish:14} {status}\n"
        )
    if spans:
        out.write("\n  attributes of the first span:\n")
        for key, value in sorted((spans[0].attributes or {}).items()):
            out.write(f"    {key} = {value!r}\n")


def _metric_summary(out: TextIO, telemetry: DemoTelemetry) -> None:
    data = telemetry.metrics.get_metrics_data()
    out.write("\nMetrics:\n")
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                points = list(metric.data.data_points)
                count = sum(getattr(p, "count", 0) for p in points)
                total = sum(getattr(p, "sum", 0) for p in points)
                out.write(
                    f"  {metric.name:46} [{metric.unit}] {len(points)} series, {count} records, sum {total:.4g}"
                    f"  ({sm.scope.name})\n"
                )


def _event_summary(out: TextIO, telemetry: DemoTelemetry) -> None:
    logs = [entry.log_record for entry in telemetry.logs.get_finished_logs()]
    out.write(f"\nEvents ({len(logs)}):\n")
    for record in logs:
        keys = sorted((record.attributes or {}).keys())
        content = [k for k in keys if k in ("gen_ai.input.messages", "gen_ai.output.messages")]
        out.write(
            f"  {record.event_name:44} severity={record.severity_number.name if record.severity_number else '-'}"
            f" content={'yes' if content else 'no'}\n"
        )


def main(out: TextIO = sys.stdout) -> int:
    from opentelemetry_instrumentation_llm import instrument, uninstrument

    telemetry = DemoTelemetry()
    instrument(**telemetry.providers)
    try:
        with FakeLLMServer() as server:
            out.write(f"Fake LLM provider listening on {server.url} (no API key, no network)\n\n")
            _run_calls(out, server)
    finally:
        uninstrument()
    telemetry.meter_provider.force_flush()
    _summary(out, telemetry)
    telemetry.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
