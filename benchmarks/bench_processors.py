"""Cost of the redaction and tail-sampling processors, per span.

Run:  python benchmarks/bench_processors.py

Each row times ending spans through a processor chain in front of a discarding exporter
(SimpleSpanProcessor, so all work happens in the timed thread), minus the same spans through the
exporter alone: µs added per span. Spans are shaped like GenAI spans with content capture on
(input/output messages as JSON text), for a typical prompt (~300 characters, one email address)
and a 32 KB prompt (with a handful of sensitive values spread through it). Log records (the
details event, structured content) are timed the same way. Minimum over rounds of the batch mean.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from opentelemetry_instrumentation_llm.processors import Processors, ProcessorSettings

ROUNDS, BATCH = 7, 300


class Discard(SpanExporter):
    def export(self, batch):  # type: ignore[no-untyped-def]
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class DiscardLogs(LogRecordExporter):
    def export(self, batch):  # type: ignore[no-untyped-def]
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


TYPICAL = (
    "Hi! I'm planning a trip to Lisbon in March with two kids. Could you suggest a 3-day itinerary "
    "with museums, a good seafood place and a rainy-day plan? You can send the details to "
    "maria.lopes@example.org. Thanks a lot, and please keep it budget-friendly and walkable."
)
SECRETS = [
    " contact jane.doe@example.com ",
    " card 4111 1111 1111 1111 ",
    " key sk-proj-" + "A" * 40 + " ",
    " call +44 20 7946 0958 ",
    " host 10.20.30.40 ",
]


def large_prompt(size: int = 32 * 1024) -> str:
    filler = (
        "Observability for language model applications means tracing each call, measuring tokens and "
        "latency, and keeping sensitive data out of telemetry. "
    )
    text = ""
    i = 0
    while len(text) < size:
        text += filler
        if len(text) > (i + 1) * size // (len(SECRETS) + 1) and i < len(SECRETS):
            text += SECRETS[i]
            i += 1
    return text[:size]


def span_attributes(prompt: str) -> dict[str, object]:
    messages = json.dumps(
        [
            {"role": "system", "parts": [{"type": "text", "content": "You are helpful."}]},
            {"role": "user", "parts": [{"type": "text", "content": prompt}]},
        ]
    )
    output = json.dumps(
        [{"role": "assistant", "parts": [{"type": "text", "content": "Here is a plan."}], "finish_reason": "stop"}]
    )
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "api.openai.com",
        "server.port": 443,
        "gen_ai.request.temperature": 0.7,
        "gen_ai.response.id": "chatcmpl-123",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 812,
        "gen_ai.usage.output_tokens": 95,
        "gen_ai.input.messages": messages,
        "gen_ai.output.messages": output,
    }


def time_spans(processor: SpanProcessor, attributes: dict[str, object]) -> float:
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("bench")

    def run() -> None:
        tracer.start_span("chat gpt-4o", attributes=attributes).end()

    return measure(run)


def time_logs(processor: LogRecordProcessor, prompt: str) -> float:
    provider = LoggerProvider()
    provider.add_log_record_processor(processor)
    logger = provider.get_logger("bench")
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": prompt}]}],
    }

    def run() -> None:
        logger.emit(event_name="gen_ai.client.inference.operation.details", attributes=attributes)

    return measure(run)


def measure(run: Callable[[], None]) -> float:
    for _ in range(50):
        run()
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(BATCH):
            run()
        best = min(best, (time.perf_counter() - start) / BATCH)
    return best * 1e6


def main() -> int:
    redact = ProcessorSettings(redact=ProcessorSettings.from_env({"OTEL_INSTRUMENTATION_LLM_REDACT": "all"}).redact)
    hashed = ProcessorSettings(redact=redact.redact, redact_mode="hash", redact_hash_key="k")
    sample = ProcessorSettings(sampling_ratio=0.1)
    print(f"{'chain':34} {'prompt':8} {'span µs':>9} {'+µs/span':>9} {'log µs':>8} {'+µs/log':>8}")
    for label, prompt in (("typical", TYPICAL), ("32 KB", large_prompt())):
        attrs = span_attributes(prompt)
        base_span = time_spans(SimpleSpanProcessor(Discard()), attrs)
        base_log = time_logs(SimpleLogRecordProcessor(DiscardLogs()), prompt)
        print(f"{'exporter only (baseline)':34} {label:8} {base_span:9.1f} {0:9.1f} {base_log:8.1f} {0:8.1f}")
        for name, settings in (
            ("redaction, mask", redact),
            ("redaction, keyed hash", hashed),
            ("tail sampling 10%", sample),
        ):
            chain = Processors.create(settings)
            span = time_spans(chain.span_processor(SimpleSpanProcessor(Discard())), attrs)
            log = time_logs(chain.log_processor(SimpleLogRecordProcessor(DiscardLogs())), prompt)
            if chain.sampler is not None:
                chain.sampler.shutdown()
            print(f"{name:34} {label:8} {span:9.1f} {span - base_span:9.1f} {log:8.1f} {log - base_log:8.1f}")
    print("\nredaction off: the processors are not inserted at all (no cost).")
    print("\nWith setup(), redaction wraps the exporters and runs in the batch export threads. Cost on the")
    print("calling thread, BatchSpanProcessor in front of a discarding exporter, 32 KB prompts:")
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attrs = span_attributes(large_prompt())
    chain = Processors.create(redact)
    plain = time_spans(BatchSpanProcessor(Discard(), max_queue_size=100_000), attrs)
    wrapped = time_spans(BatchSpanProcessor(chain.span_exporter(Discard()), max_queue_size=100_000), attrs)
    print(
        f"  batch + exporter: {plain:.1f} µs/span; batch + redacting exporter: {wrapped:.1f} µs/span "
        f"(+{wrapped - plain:.1f}; the redaction CPU is spent in the export thread)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
