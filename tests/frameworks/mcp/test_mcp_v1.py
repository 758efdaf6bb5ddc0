"""The ``mcp`` 1.x line, client and server each in a process of its own, over stdio and streamable
HTTP: the same spans, trace and metrics as on 2.x.

The test environment has ``mcp`` 2.x; a session fixture installs the last 1.x release with pip into
a folder of its own that the client and server processes (``v1_client.py``, ``v1_server.py``) put
first on ``PYTHONPATH``. Without the package index the tests fail, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import Distribution, PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from tests.e2e.collector import free_port, port_open, wait_until
from tests.frameworks.mcp.support import TIMEOUT, raw_tool_calls, read_metrics, read_spans

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
MCP1 = os.environ.get("TEST_MCP1_REQUIREMENT", "mcp<2")  # another 1.x release can be tried by hand
SCOPE = "opentelemetry_instrumentation_llm.mcp"


def _pip_install(target: Path, *requirements: str) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run(
        [*command, "--target", str(target), *requirements], capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        pytest.fail(
            f"pip could not install {' '.join(requirements)} for the mcp 1.x tests (is the package index "
            f"reachable?):\n{result.stderr[-3000:]}",
            pytrace=False,
        )


def _unsatisfied(distribution: Distribution) -> list[str]:
    """Requirements of ``distribution`` that this environment does not meet."""
    missing = []
    for line in distribution.requires or ():
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            if requirement.specifier.contains(version(requirement.name), prereleases=True):
                continue
        except PackageNotFoundError:
            pass
        missing.append(line.split(";")[0])
    return missing


@pytest.fixture(scope="session")
def mcp1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``mcp`` 1.x and whatever of its requirements this environment lacks."""
    target = tmp_path_factory.mktemp("mcp1")
    _pip_install(target, "--no-deps", MCP1)
    (metadata,) = target.glob("mcp-1.*.dist-info")
    missing = _unsatisfied(Distribution.at(metadata))
    if missing:
        _pip_install(target, *missing)
    return target


def env_for(mcp1: Path, spans_file: Path, **extra: str) -> dict[str, str]:
    pythonpath = os.pathsep.join((str(mcp1), str(ROOT)))
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": pythonpath, "SPANS_FILE": str(spans_file), **extra}


def run_client(mcp1: Path, tmp_path: Path, *args: str, **extra: str) -> dict[str, Any]:
    """Run ``v1_client.py`` to completion; what it printed."""
    env = env_for(mcp1, tmp_path / "client.jsonl", SERVER_SPANS_FILE=str(tmp_path / "server.jsonl"), **extra)
    result = subprocess.run(
        [sys.executable, str(HERE / "v1_client.py"), *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@contextmanager
def http_server(mcp1: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, str(HERE / "v1_server.py"), "fastmcp", "http", str(port)]
    env = env_for(mcp1, tmp_path / "server.jsonl")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port) or process.poll() is not None, TIMEOUT, "the MCP server to listen")
        assert process.poll() is None, "the MCP server exited"
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=TIMEOUT)


def only(spans: list[dict[str, Any]], name: str, kind: str) -> dict[str, Any]:
    (span,) = [s for s in spans if s["name"] == name and s["kind"] == kind]
    return span


def assert_served_by(client_span: dict[str, Any], server_span: dict[str, Any]) -> None:
    assert server_span["trace_id"] == client_span["trace_id"]
    assert server_span["parent_id"] == client_span["span_id"]


@pytest.mark.parametrize("server", ["stdio fastmcp", "stdio lowlevel", "http fastmcp"])
def test_requests_across_processes_are_one_trace_each(server: str, mcp1: Path, tmp_path: Path) -> None:
    transport, kind = server.split()
    if transport == "http":
        with http_server(mcp1, tmp_path) as url:
            outcome = run_client(mcp1, tmp_path, "http", url)
    else:
        outcome = run_client(mcp1, tmp_path, "stdio", kind)
    assert outcome["add"] == "8888888" and outcome["divide_is_error"] and outcome["prompt"] == "Hello, Ada!"
    assert outcome["patched"] == [True, True] and outcome["patched_after_uninstrument"] == [False, False]
    client, served = read_spans(tmp_path / "client.jsonl"), read_spans(tmp_path / "server.jsonl")
    assert {s["scope"] for s in client} == {SCOPE, "opentelemetry_instrumentation_llm.agents"}
    assert {s["scope"] for s in served} == {SCOPE}

    agent = only(client, "invoke_agent calculator-agent", "INTERNAL")
    call = only(client, "tools/call add", "CLIENT")
    assert call["parent_id"] == agent["span_id"] and call["trace_id"] == agent["trace_id"]
    assert call["attributes"] == {
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "add",
        "gen_ai.agent.name": "calculator-agent",
        "jsonrpc.request.id": call["attributes"]["jsonrpc.request.id"],
    }
    handled = only(served, "tools/call add", "SERVER")
    assert_served_by(call, handled)
    assert handled["attributes"]["gen_ai.operation.name"] == "execute_tool"
    assert handled["attributes"]["gen_ai.tool.name"] == "add"
    assert handled["attributes"]["jsonrpc.request.id"] == call["attributes"]["jsonrpc.request.id"]
    assert handled["attributes"]["mcp.protocol.version"]
    assert handled["status"] == "UNSET"

    for name in ("initialize", "tools/call divide", "prompts/get greet", "resources/read"):
        assert_served_by(only(client, name, "CLIENT"), only(served, name, "SERVER"))
    assert only(served, "prompts/get greet", "SERVER")["attributes"]["gen_ai.prompt.name"] == "greet"
    for divide in (only(client, "tools/call divide", "CLIENT"), only(served, "tools/call divide", "SERVER")):
        assert divide["attributes"]["error.type"] == "tool_error" and divide["status"] == "ERROR"
    for side in (only(client, "resources/read", "CLIENT"), only(served, "resources/read", "SERVER")):
        assert side["status"] == "ERROR"
        assert side["attributes"]["error.type"] == side["attributes"]["rpc.response.status_code"]
        assert side["attributes"]["error.type"] == str(outcome["read_error"])

    # Nothing of the tools' arguments, results or prompts is recorded by default.
    exported = json.dumps([client, served])
    assert not any(secret in exported for secret in ("1234567", "8888888", "Ada"))

    points = read_metrics(tmp_path / "client.jsonl")
    assert any(
        p["name"] == "mcp.client.operation.duration" and p["attributes"].get("gen_ai.tool.name") == "add"
        for p in points
    )
    assert any(
        p["name"] == "gen_ai.execute_tool.duration" and p["attributes"].get("gen_ai.agent.name") == "calculator-agent"
        for p in points
    )
    assert any(
        p["name"] == "gen_ai.execute_tool.duration" and p["attributes"].get("error.type") == "tool_error"
        for p in points
    )
    server_points = read_metrics(tmp_path / "server.jsonl")
    assert any(
        p["name"] == "mcp.server.operation.duration" and p["attributes"].get("error.type") == "tool_error"
        for p in server_points
    )
    assert not any(p["name"] == "gen_ai.execute_tool.duration" for p in server_points)  # counted once, by the caller


@pytest.mark.parametrize("uninstrumented", ["client", "server"])
def test_an_uninstrumented_peer_keeps_working(uninstrumented: str, mcp1: Path, tmp_path: Path) -> None:
    flag = {"UNINSTRUMENTED": "1"} if uninstrumented == "client" else {"SERVER_UNINSTRUMENTED": "1"}
    outcome = run_client(mcp1, tmp_path, "stdio", "fastmcp", **flag)
    assert outcome["add"] == "8888888" and outcome["prompt"] == "Hello, Ada!"
    client, served = read_spans(tmp_path / "client.jsonl"), read_spans(tmp_path / "server.jsonl")
    if uninstrumented == "client":
        assert [s for s in client if s["scope"] == SCOPE] == []
        handled = only(served, "tools/call add", "SERVER")
        assert handled["parent_id"] is None  # no context came: a trace of its own
    else:
        assert served == []
        call = only(client, "tools/call add", "CLIENT")
        assert "error.type" not in call["attributes"]


async def test_malformed_meta_context_is_ignored(mcp1: Path, tmp_path: Path) -> None:
    """A raw JSON-RPC peer sends malformed ``_meta`` trace contexts: the server answers each, and
    its spans start traces of their own."""
    spans_file = tmp_path / "server.jsonl"
    command = [sys.executable, str(HERE / "v1_server.py"), "fastmcp", "stdio"]
    metas = [{"traceparent": "00-not-a-trace-context"}, {"traceparent": 42, "tracestate": ["x"]}]
    replies = await raw_tool_calls(command, env_for(mcp1, spans_file), metas)
    assert [reply["id"] for reply in replies] == [2, 3]
    assert not any(reply["result"].get("isError") for reply in replies)
    handled = [s for s in read_spans(spans_file) if s["name"] == "tools/call add"]
    assert len(handled) == 2
    assert all(s["parent_id"] is None and s["status"] == "UNSET" for s in handled)
