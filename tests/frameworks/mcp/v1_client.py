"""An ``mcp`` 1.x client run as its own process by the tests (with mcp 1.x first on ``PYTHONPATH``):
``v1_client.py stdio fastmcp|lowlevel`` starts ``v1_server.py`` over stdio, ``v1_client.py http URL``
connects to one serving streamable HTTP.

It calls ``add`` inside ``llm.agent("calculator-agent")``, then ``divide`` by zero (a tool error),
``prompts/get greet`` and ``resources/read`` of a resource nobody has (a JSON-RPC error), then
uninstruments, and prints what it got as JSON. Spans go to ``$SPANS_FILE`` (``support.py``);
``UNINSTRUMENTED`` leaves the client as it is; ``SERVER_SPANS_FILE`` and ``SERVER_UNINSTRUMENTED``
are handed to a stdio server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import opentelemetry_instrumentation_llm as llm
from opentelemetry_instrumentation_llm.integrations import MCPInstrumentor
from tests.frameworks.mcp.support import TIMEOUT, export_to_files

SERVER = Path(__file__).with_name("v1_server.py")


@asynccontextmanager
async def connect(transport: str, where: str) -> AsyncIterator[Any]:
    from mcp import ClientSession

    if transport == "stdio":
        from mcp.client.stdio import StdioServerParameters, stdio_client

        env = {key: os.environ[key] for key in ("PATH", "PYTHONPATH")}
        env["SPANS_FILE"] = os.environ["SERVER_SPANS_FILE"]
        if os.environ.get("SERVER_UNINSTRUMENTED"):
            env["UNINSTRUMENTED"] = "1"
        params = StdioServerParameters(command=sys.executable, args=[str(SERVER), where, "stdio"], env=env)
        opened = stdio_client(params)
    else:
        from mcp.client import streamable_http

        opened = getattr(streamable_http, "streamable_http_client", None) or streamable_http.streamablehttp_client
        opened = opened(where)
    async with opened as streams:
        async with ClientSession(streams[0], streams[1]) as session:
            yield session


async def exercise(session: Any) -> dict[str, Any]:
    from mcp.shared.exceptions import McpError

    await asyncio.wait_for(session.initialize(), TIMEOUT)
    with llm.agent("calculator-agent"):
        added = await session.call_tool("add", {"a": 1234567, "b": 7654321})
    divided = await session.call_tool("divide", {"a": 1, "b": 0})
    prompt = await session.get_prompt("greet", {"name": "Ada"})
    try:
        await session.read_resource("file:///nowhere")
        read_error = None
    except McpError as exc:
        read_error = exc.error.code
    return {
        "add": added.content[0].text,
        "divide_is_error": divided.isError,
        "prompt": prompt.messages[0].content.text,
        "read_error": read_error,
    }


def main() -> None:
    tracer_provider, meter_provider = export_to_files(os.environ["SPANS_FILE"])
    instrumentor = MCPInstrumentor()
    if not os.environ.get("UNINSTRUMENTED"):
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)

    async def run() -> dict[str, Any]:
        async with connect(sys.argv[1], sys.argv[2]) as session:
            return await exercise(session)

    outcome = asyncio.run(run())
    from mcp.shared.session import BaseSession, RequestResponder

    outcome["patched"] = [hasattr(f, "__wrapped__") for f in (BaseSession.send_request, RequestResponder.respond)]
    instrumentor.uninstrument()
    outcome["patched_after_uninstrument"] = [
        hasattr(f, "__wrapped__") for f in (BaseSession.send_request, RequestResponder.respond)
    ]
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
