"""What the agent, tool, workflow and MCP recording exports, for the deploy/ checks (the catalogue of
metric names and labels that dashboards and alerts may use)."""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

import opentelemetry_instrumentation_llm as llm
from opentelemetry_instrumentation_llm import agents


def _run_agent() -> None:
    @llm.tool
    def lookup(city: str) -> str:
        return city

    @llm.tool
    def broken(city: str) -> str:
        raise LookupError(city)

    with llm.workflow("triage"), llm.agent("planner", provider="openai", model="gpt-4o"):
        lookup("Paris")
        try:
            broken("Paris")
        except LookupError:
            pass
    try:
        with llm.agent("failing-planner"):
            raise TimeoutError("the run gave up")
    except TimeoutError:
        pass


async def _call_mcp_tool() -> None:
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("calculator")

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    async with Client(server, mode="legacy") as client:
        await client.call_tool("add", {"a": 1, "b": 2})


def agent_and_mcp_metrics() -> list[tuple[str, str, Any, frozenset[str]]]:
    """(name, unit, SDK metric data, attribute keys) of every metric the runs above export."""
    from opentelemetry_instrumentation_llm.integrations import MCPInstrumentor

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    agents.configure(meter_provider=provider)
    instrumentor = MCPInstrumentor()
    instrumentor.instrument(meter_provider=provider)
    try:
        _run_agent()
        asyncio.run(_call_mcp_tool())
        data = reader.get_metrics_data()
    finally:
        instrumentor.uninstrument()
        agents._recorder = None
        provider.shutdown()
    found = []
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                attributes = frozenset(k for p in m.data.data_points for k in (p.attributes or {}))
                found.append((m.name, m.unit or "", m.data, attributes))
    return found
