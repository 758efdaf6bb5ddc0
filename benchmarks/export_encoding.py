"""What exporting one span costs the export thread, by batch size and protocol, and the resource hash.

Run:  python benchmarks/export_encoding.py           (2,048 spans, best of 5)
      python benchmarks/export_encoding.py --quick   (512 spans, best of 3)

Real spans are made by instrumented OpenAI calls (two chat calls for every short stream, content
capture off, as in ``benchmarks/load.py``) against the fake provider's in-process transport.
Their export is then timed with the exporting thread's own CPU clock: OTLP protobuf encoding
alone, then the SDK's OTLP/gRPC and OTLP/HTTP exporters sending batches of 64 to 2,048 spans to
a real collector (``rotel``, discarding what it receives). The last two rows encode the same spans
with the resource as the SDK builds it and as ``setup()`` builds it (hashed once).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from _collector import BlackholeCollector
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

MESSAGES = [{"role": "user", "content": "Summarise the plot of Hamlet in two sentences."}]


def instrumented_spans(count: int, resource: Resource) -> list[ReadableSpan]:
    import httpx2
    import openai
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider

    from opentelemetry_instrumentation_llm.instrumentor import OpenAIInstrumentor
    from opentelemetry_instrumentation_llm.testing import FakeLLM

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=MeterProvider(),
                            logger_provider=LoggerProvider())  # fmt: skip
    fake = FakeLLM()
    client = openai.OpenAI(api_key="sk-bench", base_url="http://fake.local/v1", max_retries=0,
                           http_client=httpx2.Client(transport=fake.transport()))  # fmt: skip
    arguments: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES}
    try:
        for i in range(count):
            fake.exchanges.clear()
            if i % 3 == 0:
                for _ in client.chat.completions.create(**arguments, stream=True):
                    pass
            else:
                client.chat.completions.create(**arguments)
    finally:
        instrumentor.uninstrument()
    return list(spans.get_finished_spans())


def cpu_per_span(work: Callable[[], object], spans: int, repeat: int) -> float:
    """Best-of-``repeat`` CPU µs per span of ``work``, on this thread's clock."""
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        work()
        best = min(best, time.thread_time() - started)
    return best / spans * 1e6


def send_in_batches(exporter: Any, spans: Sequence[ReadableSpan], size: int) -> Callable[[], None]:
    def send() -> None:
        for start in range(0, len(spans), size):
            exporter.export(spans[start : start + size])

    return send


def main() -> int:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    from opentelemetry_instrumentation_llm.pipeline import _HashedOnceResource

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count, repeat = (512, 3) if args.quick else (2048, 5)
    plain = Resource.create({"service.name": "export-encoding"})
    spans = instrumented_spans(count, plain)
    hashed = instrumented_spans(count, _HashedOnceResource.of(plain))
    rows = [("OTLP protobuf encoding only", cpu_per_span(lambda: encode_spans(spans).SerializeToString(), count,
                                                         repeat))]  # fmt: skip
    collector = BlackholeCollector.start()
    try:
        exporters = {"OTLP/gRPC": GrpcExporter(endpoint=collector.grpc_endpoint, insecure=True),
                     "OTLP/HTTP": HttpExporter(endpoint=f"{collector.http_endpoint}/v1/traces")}  # fmt: skip
        for name, exporter in exporters.items():
            for size in (64, 128, 512, 2048):
                rows.append((f"{name}, batches of {size}", cpu_per_span(send_in_batches(exporter, spans, size),
                                                                        count, repeat)))  # fmt: skip
            exporter.shutdown()
    finally:
        collector.stop()
    for label, batch in (("resource as the SDK builds it", spans), ("resource as setup() builds it", hashed)):
        rows.append((f"encoding, {label}", cpu_per_span(lambda b=batch: encode_spans(b).SerializeToString(),  # type: ignore[misc]
                                                        count, repeat)))  # fmt: skip
    print(f"{count} spans ({len(spans[0].attributes or {})} attributes on a chat span), "
          f"resource of {len(plain.attributes)} attributes; CPU of the exporting thread, best of {repeat}")  # fmt: skip
    for label, value in rows:
        print(f"{label:<48}{value:8.1f} µs/span")
    return 0


if __name__ == "__main__":
    sys.exit(main())
