"""An ``mcp`` 1.x server run as its own process by the tests (with mcp 1.x first on ``PYTHONPATH``):
``v1_server.py fastmcp|lowlevel stdio`` or ``v1_server.py fastmcp http PORT``.

Both servers offer the tools ``add`` and ``divide`` and the prompt ``greet``. Spans go to
``$SPANS_FILE`` and metric points to ``$SPANS_FILE.metrics`` (see ``support.py``); ``UNINSTRUMENTED``
leaves the server as it is.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from opentelemetry_instrumentation_llm.integrations import MCPInstrumentor
from tests.frameworks.mcp.support import add_calculator_tools, export_to_files


def fastmcp(port: int) -> Any:
    from mcp.server.fastmcp import FastMCP

    server = FastMCP("calculator", host="127.0.0.1", port=port)
    add_calculator_tools(server)

    @server.prompt()
    def greet(name: str) -> str:
        return f"Hello, {name}!"

    return server


def run_lowlevel() -> None:
    import anyio
    from mcp import types
    from mcp.server.lowlevel import Server
    from mcp.server.stdio import stdio_server

    server: Any = Server("calculator")

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        schema = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}
        return [types.Tool(name=name, inputSchema=schema) for name in ("add", "divide")]

    @server.call_tool()
    async def call_tool(name: str, arguments: dict[str, Any]) -> list[types.TextContent]:
        a, b = arguments["a"], arguments["b"]
        value = a + b if name == "add" else a / b  # a ZeroDivisionError becomes an isError result
        return [types.TextContent(type="text", text=str(value))]

    @server.get_prompt()
    async def get_prompt(name: str, arguments: dict[str, str] | None) -> types.GetPromptResult:
        text = f"Hello, {(arguments or {}).get('name')}!"
        message = types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
        return types.GetPromptResult(messages=[message])

    async def serve() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(serve)


def main() -> None:
    tracer_provider, meter_provider = export_to_files(os.environ["SPANS_FILE"])
    if not os.environ.get("UNINSTRUMENTED"):
        MCPInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    kind, transport = sys.argv[1], sys.argv[2]
    if kind == "lowlevel":
        run_lowlevel()
    elif transport == "stdio":
        fastmcp(0).run("stdio")
    else:
        fastmcp(int(sys.argv[3])).run("streamable-http")


if __name__ == "__main__":
    main()
