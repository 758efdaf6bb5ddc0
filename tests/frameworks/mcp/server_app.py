"""An instrumented MCP server run as its own process by the tests: ``server_app.py stdio|http PORT``.

Finished spans are appended as JSON lines to ``$SPANS_FILE`` as they end, and the metric points
are written to ``$SPANS_FILE.metrics`` when the server stops, so the test can read both.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from opentelemetry_instrumentation_llm.integrations import MCPInstrumentor


class JsonLinesExporter(SpanExporter):
    """Appends each span as it ends, then rewrites the metric snapshot (our operations record their
    metrics before ending their span), so nothing depends on how the server process stops."""

    def __init__(self, path: str, reader: InMemoryMetricReader) -> None:
        self.path = path
        self.reader = reader

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with open(self.path, "a", encoding="utf-8") as out:
            for span in spans:
                out.write(
                    json.dumps(
                        {
                            "name": span.name,
                            "kind": span.kind.name,
                            "scope": span.instrumentation_scope.name,
                            "trace_id": span.context.trace_id,
                            "span_id": span.context.span_id,
                            "parent_id": span.parent.span_id if span.parent else None,
                            "attributes": dict(span.attributes or {}),
                            "status": span.status.status_code.name,
                        }
                    )
                    + "\n"
                )
        write_metrics(self.reader, self.path + ".metrics")
        return SpanExportResult.SUCCESS


def write_metrics(reader: InMemoryMetricReader, path: str) -> None:
    points = []
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                points += [
                    {"name": metric.name, "attributes": dict(p.attributes), "count": p.count}
                    for p in metric.data.data_points
                ]
    with open(path, "w", encoding="utf-8") as out:
        json.dump(points, out)


def main() -> None:
    path = os.environ["SPANS_FILE"]
    reader = InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(path, reader)))
    trace.set_tracer_provider(tracer_provider)  # the SDK's own tracing would use it, were it not replaced
    if not os.environ.get("UNINSTRUMENTED"):
        MCPInstrumentor().instrument(meter_provider=MeterProvider(metric_readers=[reader]))

    from mcp.server.mcpserver import MCPServer

    server = MCPServer("calculator")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    def divide(a: int, b: int) -> float:
        """Divide a by b."""
        return a / b

    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))


if __name__ == "__main__":
    main()
