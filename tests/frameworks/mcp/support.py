"""What the MCP test processes share: spans and metrics written to files the test reads, the
calculator tools every test server offers, and a raw JSON-RPC peer.

A process under test calls :func:`export_to_files`: each finished span is appended to ``path`` as a
JSON line as it ends, and the metric points are rewritten to ``path.metrics`` after each span (our
operations record their metrics before ending their span), so nothing depends on how the process
stops. Scripts import this module with the repository root on ``PYTHONPATH``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

TIMEOUT = 20.0


def add_calculator_tools(server: Any) -> None:
    """``add``, and ``divide`` (whose ZeroDivisionError the server answers as an ``isError`` result),
    on a FastMCP-style server of either line (1.x ``FastMCP``, 2.x ``MCPServer``)."""

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    def divide(a: int, b: int) -> float:
        """Divide a by b."""
        return a / b


class JsonLinesExporter(SpanExporter):
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


def export_to_files(path: str) -> tuple[TracerProvider, MeterProvider]:
    """Providers exporting to ``path`` (and ``path.metrics``), also set as the global ones."""
    reader = InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(path, reader)))
    meter_provider = MeterProvider(metric_readers=[reader])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, meter_provider


def read_spans(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def read_metrics(path: Path) -> list[dict[str, Any]]:
    return json.loads(Path(str(path) + ".metrics").read_text())  # type: ignore[no-any-return]


async def raw_tool_calls(command: Sequence[str], env: dict[str, str], metas: Sequence[Any]) -> list[dict[str, Any]]:
    """Act as a raw JSON-RPC peer (no SDK client that would inject its own context) on a stdio
    server: initialize, then one ``tools/call add`` per ``_meta`` given; the replies to the calls."""
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    stdin, stdout = process.stdin, process.stdout
    assert stdin is not None and stdout is not None

    async def send(message: dict[str, Any], answer: bool = True) -> dict[str, Any] | None:
        stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
        await stdin.drain()
        if not answer:
            return None
        return json.loads(await asyncio.wait_for(stdout.readline(), TIMEOUT))  # type: ignore[no-any-return]

    client = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
    replies = []
    try:
        await send({"id": 1, "method": "initialize", "params": client})
        await send({"method": "notifications/initialized"}, answer=False)
        for request_id, meta in enumerate(metas, start=2):
            params = {"name": "add", "arguments": {"a": 1, "b": 1}, "_meta": meta}
            replies.append(await send({"id": request_id, "method": "tools/call", "params": params}))
    finally:
        stdin.close()
        try:
            await asyncio.wait_for(process.wait(), TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
    return [reply for reply in replies if reply is not None]
