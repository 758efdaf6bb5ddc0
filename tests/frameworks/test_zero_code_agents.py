"""Zero code: ``opentelemetry-instrument`` on an app that runs an Agents SDK agent whose tool calls an
MCP server in another process (itself under ``opentelemetry-instrument``), inside a hand-written
``llm.workflow``: one trace through a real collector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opentelemetry_instrumentation_llm.testing import FakeLLM, FakeLLMServer, Reply
from tests.e2e.collector import OTLPSink, Rotel, wait_until
from tests.e2e.launcher import LAUNCHER, launch, to_collector, trace_of

SERVER = """
from mcp.server.mcpserver import MCPServer
server = MCPServer("calculator")

@server.tool()
def add(a: int, b: int) -> int:
    return a + b

server.run("stdio")
"""

APP = """
import asyncio, os, sys
import openai
import opentelemetry_instrumentation_llm as llm
from agents import Agent, OpenAIResponsesModel, Runner, function_tool
from mcp import Client, StdioServerParameters

@function_tool
async def add(a: int, b: int) -> str:
    server = StdioServerParameters(command=os.environ["LAUNCHER"], args=[sys.executable, os.environ["SERVER"]],
                                   env=dict(os.environ, OTEL_SERVICE_NAME="mcp-server"))
    async with Client(server, read_timeout_seconds=30) as mcp:
        result = await mcp.call_tool("add", {"a": a, "b": b})
    return result.content[0].text

async def main() -> None:
    client = openai.AsyncOpenAI(api_key="sk-zero-code-agents", base_url=os.environ["FAKE_LLM_URL"] + "/v1")
    agent = Agent(name="calculator", tools=[add], model=OpenAIResponsesModel(model="gpt-4o", openai_client=client))
    with llm.workflow("zero-code"):
        result = await Runner.run(agent, "what is 2 + 3?")
    print("answer:", result.final_output)

asyncio.run(main())
"""


def test_agent_tool_and_mcp_server_in_one_trace(
    tmp_path: Path,
    fake_server: FakeLLMServer,
    fake: FakeLLM,
    collector: Rotel,
    sink: OTLPSink,
) -> None:
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "app.py").write_text(APP)
    fake.push(Reply(tool_calls=[{"id": "call_1", "name": "add", "arguments": '{"a": 2, "b": 3}'}]))
    env = {
        "FAKE_LLM_URL": fake_server.url,
        "LAUNCHER": str(LAUNCHER),
        "SERVER": str(tmp_path / "server.py"),
        "OTEL_SERVICE_NAME": "agent-app",
        **to_collector(collector.grpc_endpoint),
    }
    result = launch(tmp_path / "app.py", env)
    assert "answer: answer from tool: 5" in result.stdout

    def run_spans() -> list[Any]:
        return trace_of(sink.spans(), "invoke_workflow zero-code")

    expected = {
        "invoke_workflow zero-code",
        "invoke_workflow Agent workflow",
        "invoke_agent calculator",
        "chat gpt-4o",
        "execute_tool add",
        "tools/call add",
    }
    wait_until(
        lambda: (
            expected <= {s.name for s in run_spans()}
            and any(s.resource.get("service.name") == "mcp-server" for s in run_spans())
        ),
        30,
        "the run's spans from the app and the MCP server",
    )
    spans = run_spans()
    assert len([s for s in spans if s.name == "chat gpt-4o"]) == len(fake.exchanges) == 2
    (served,) = [s for s in spans if s.resource.get("service.name") == "mcp-server" and s.name == "tools/call add"]
    assert served.attributes["gen_ai.tool.name"] == "add"
    assert [s for s in sink.spans() if s.scope == "mcp-python-sdk"] == []  # the SDK's own spans: replaced
    assert "sk-zero-code-agents" not in repr(sink.trace_requests)
