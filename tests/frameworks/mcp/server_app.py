"""An instrumented ``mcp`` 2.x server run as its own process by the tests: ``server_app.py stdio|http PORT``.

Spans go to ``$SPANS_FILE`` and metric points to ``$SPANS_FILE.metrics`` (see ``support.py``).
"""

from __future__ import annotations

import os
import sys

from opentelemetry_instrumentation_llm.integrations import MCPInstrumentor
from tests.frameworks.mcp.support import add_calculator_tools, export_to_files


def main() -> None:
    tracer_provider, meter_provider = export_to_files(os.environ["SPANS_FILE"])
    if not os.environ.get("UNINSTRUMENTED"):  # the SDK's own tracing uses the global provider then
        MCPInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)

    from mcp.server.mcpserver import MCPServer

    server = MCPServer("calculator")
    add_calculator_tools(server)

    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))


if __name__ == "__main__":
    main()
