"""MCP client (this process) and server (another process) over stdio and streamable HTTP: one trace."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from opentelemetry.trace import SpanKind, StatusCode

import opentelemetry_instrumentation_llm as llm
from opentelemetry_instrumentation_llm import agents
from opentelemetry_instrumentation_llm.integrations import MCPInstrumentor
from tests.agents.shape import point_count
from tests.conftest import Telemetry, instrument_fixture
from tests.e2e.collector import free_port, port_open, wait_until
from tests.frameworks.mcp.support import TIMEOUT, raw_tool_calls, read_metrics, read_spans

SERVER_APP = Path(__file__).with_name("server_app.py")
ROOT = Path(__file__).resolve().parents[3]

instrument = instrument_fixture(MCPInstrumentor)


@pytest.fixture
def instrumented(instrument: Callable[..., Any], telemetry: Telemetry) -> Iterator[None]:
    instrument()
    agents.configure(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
    yield
    agents._recorder = None


def server_env(spans_file: Path) -> dict[str, str]:
    return {"SPANS_FILE": str(spans_file), "PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")}


@asynccontextmanager
async def stdio_server(spans_file: Path, **env: str) -> AsyncIterator[Any]:
    params = StdioServerParameters(
        command=sys.executable, args=[str(SERVER_APP), "stdio"], env={**server_env(spans_file), **env}
    )
    async with Client(params, read_timeout_seconds=TIMEOUT) as client:
        yield client


@asynccontextmanager
async def http_server(spans_file: Path) -> AsyncIterator[Any]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER_APP), "http", str(port)],
        env=server_env(spans_file),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open(port) or process.poll() is not None, TIMEOUT, "the MCP server to listen")
        assert process.poll() is None, "the MCP server exited"
        async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=TIMEOUT) as client:
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


SERVERS = {"stdio": stdio_server, "http": http_server}


@pytest.mark.parametrize("transport", sorted(SERVERS))
async def test_tool_call_across_processes_is_one_trace(
    transport: str, instrumented: None, telemetry: Telemetry, tmp_path: Path
) -> None:
    spans_file = tmp_path / "server-spans.jsonl"
    async with SERVERS[transport](spans_file) as client:
        with llm.agent("calculator-agent"):
            result = await client.call_tool("add", {"a": 2, "b": 3})
        assert not result.is_error
        failed = await client.call_tool("divide", {"a": 1, "b": 0})
        assert failed.is_error

    client_spans = telemetry.spans()
    (agent,) = [s for s in client_spans if s.name == "invoke_agent calculator-agent"]
    (call,) = [s for s in client_spans if s.name == "tools/call add"]
    assert call.kind is SpanKind.CLIENT
    assert call.parent is not None and call.parent.span_id == agent.context.span_id
    assert call.attributes["mcp.method.name"] == "tools/call"
    assert call.attributes["gen_ai.operation.name"] == "execute_tool"
    assert call.attributes["gen_ai.tool.name"] == "add"
    assert call.attributes["gen_ai.agent.name"] == "calculator-agent"
    assert "jsonrpc.request.id" in call.attributes
    assert not any(s.name.startswith("MCP send") for s in client_spans)
    assert {"tools/call add", "tools/call divide"} <= {s.name for s in client_spans}
    (failed_call,) = [s for s in client_spans if s.name == "tools/call divide"]
    assert failed_call.attributes["error.type"] == "tool_error"  # isError in the result, as on the server
    assert failed_call.status.status_code is StatusCode.ERROR
    assert "error.type" not in call.attributes and call.status.status_code is StatusCode.UNSET
    assert len({s.context.span_id for s in client_spans}) == len(client_spans)  # each span ended once

    served = read_spans(spans_file)
    (handled,) = [s for s in served if s["name"] == "tools/call add"]
    assert handled["kind"] == "SERVER"
    assert handled["scope"] == "opentelemetry_instrumentation_llm.mcp"
    assert handled["trace_id"] == call.context.trace_id == agent.context.trace_id
    assert handled["parent_id"] == call.context.span_id
    assert handled["attributes"]["gen_ai.tool.name"] == "add"
    assert all(s["scope"] == "opentelemetry_instrumentation_llm.mcp" for s in served)  # the SDK's own: replaced
    (failed_span,) = [s for s in served if s["name"] == "tools/call divide"]
    assert failed_span["attributes"]["error.type"] == "tool_error"
    assert failed_span["status"] == "ERROR"

    points = telemetry.points("mcp.client.operation.duration")
    assert point_count(points, **{"mcp.method.name": "tools/call", "gen_ai.tool.name": "add"}) == 1
    tool_points = telemetry.points("gen_ai.execute_tool.duration")
    assert point_count(tool_points, **{"gen_ai.tool.name": "add", "gen_ai.agent.name": "calculator-agent"}) == 1
    assert [p.sum for p in telemetry.points("gen_ai.invoke_agent.tool_calls")] == [1]
    assert point_count(tool_points, **{"gen_ai.tool.name": "divide", "error.type": "tool_error"}) == 1
    assert point_count(points, **{"gen_ai.tool.name": "divide", "error.type": "tool_error"}) == 1

    server_points = read_metrics(spans_file)
    assert any(
        p["name"] == "mcp.server.operation.duration" and p["attributes"].get("error.type") == "tool_error"
        for p in server_points
    )


async def test_uninstrumented_client_still_reaches_an_instrumented_server(telemetry: Telemetry, tmp_path: Path) -> None:
    spans_file = tmp_path / "server-spans.jsonl"
    async with stdio_server(spans_file) as client:
        result = await client.call_tool("add", {"a": 1, "b": 1})
    assert not result.is_error
    assert telemetry.spans() == []  # nothing of ours on the client side
    (handled,) = [s for s in read_spans(spans_file) if s["name"] == "tools/call add"]
    assert handled["kind"] == "SERVER" and handled["attributes"]["gen_ai.tool.name"] == "add"


async def test_instrumented_client_reaches_an_uninstrumented_server(
    instrumented: None, telemetry: Telemetry, tmp_path: Path
) -> None:
    spans_file = tmp_path / "server-spans.jsonl"
    async with stdio_server(spans_file, UNINSTRUMENTED="1") as client:
        result = await client.call_tool("add", {"a": 20, "b": 22})
    assert result.content[0].text == "42"  # type: ignore[union-attr]
    (call,) = [s for s in telemetry.spans() if s.name == "tools/call add"]
    assert call.kind is SpanKind.CLIENT and "error.type" not in call.attributes
    served = read_spans(spans_file)
    assert all(s["scope"] != "opentelemetry_instrumentation_llm.mcp" for s in served)


async def test_client_error_propagates(instrumented: None, telemetry: Telemetry, tmp_path: Path) -> None:
    spans_file = tmp_path / "server-spans.jsonl"
    async with stdio_server(spans_file) as client:
        with pytest.raises(Exception) as raised:
            await client.read_resource("file:///nowhere")
    assert type(raised.value).__name__ == "MCPError"
    (span,) = [s for s in telemetry.spans() if s.attributes.get("mcp.method.name") == "resources/read"]
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == span.attributes["rpc.response.status_code"]


async def test_malformed_meta_context_is_ignored(tmp_path: Path) -> None:
    """A raw JSON-RPC peer sends a malformed ``traceparent``: the server answers, and its span
    starts a trace of its own."""
    spans_file = tmp_path / "server-spans.jsonl"
    command = [sys.executable, str(SERVER_APP), "stdio"]
    (reply,) = await raw_tool_calls(command, server_env(spans_file), [{"traceparent": "00-not-a-trace-context"}])
    assert reply["id"] == 2 and not reply["result"].get("isError")
    (handled,) = [s for s in read_spans(spans_file) if s["name"] == "tools/call add"]
    assert handled["parent_id"] is None and handled["status"] == "UNSET"
