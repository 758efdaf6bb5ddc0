"""A hand-written agent loop with ``llm.agent`` / ``llm.tool`` / ``llm.workflow`` over the real openai SDK."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import openai
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.trace import SpanKind, StatusCode

import opentelemetry_instrumentation_llm as llm
from opentelemetry_instrumentation_llm import agents
from opentelemetry_instrumentation_llm.config import ContentCapture, ContentSettings
from opentelemetry_instrumentation_llm.processors import RedactingLogRecordProcessor, Redactor
from opentelemetry_instrumentation_llm.testing import FakeLLM, Reply
from tests.agents.shape import (
    assert_one_trace,
    by_operation,
    inference_spans,
    is_ancestor,
    point_count,
    point_sum,
)
from tests.conftest import Telemetry, decoded, everything_exported, plain

SECRET_CITY = "Quimper-7731"


@llm.tool
def get_weather(city: str) -> str:
    """Current weather of a city.

    Longer notes that are not part of the description.
    """
    return f"sunny in {city}"


@llm.tool(name="explode")
def failing_tool(city: str) -> str:
    raise LookupError(f"no station in {city}")


def run_loop(client: openai.OpenAI, fake: FakeLLM, question: str, tool: Callable[[str], str] = get_weather) -> str:
    """Model asks for the tool, the tool runs, the model answers: two model calls, one tool call."""
    fake.push(
        Reply(tool_calls=[{"id": "call_1", "name": "get_weather", "arguments": json.dumps({"city": SECRET_CITY})}])
    )
    messages: list[Any] = [{"role": "user", "content": question}]
    while True:
        response = client.chat.completions.create(model="gpt-4o", messages=messages)
        message = response.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = tool(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})


def test_agent_loop_is_one_trace(client: openai.OpenAI, fake: FakeLLM, record: Any, telemetry: Telemetry) -> None:
    with llm.agent("planner", id="agent-7"):
        answer = run_loop(client, fake, f"weather in {SECRET_CITY}?")
    assert answer

    spans = telemetry.spans()
    assert_one_trace(spans)
    (agent,) = by_operation(spans, "invoke_agent")
    (tool,) = by_operation(spans, "execute_tool")
    chats = inference_spans(spans)
    assert len(chats) == len(fake.exchanges) == 2
    assert all(is_ancestor(agent, s, spans) for s in [*chats, tool])
    assert agent.name == "invoke_agent planner" and agent.kind is SpanKind.INTERNAL
    assert agent.attributes["gen_ai.agent.name"] == "planner"
    assert agent.attributes["gen_ai.agent.id"] == "agent-7"
    assert tool.name == "execute_tool get_weather" and tool.kind is SpanKind.INTERNAL
    assert dict(tool.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Current weather of a city.",
        "gen_ai.agent.name": "planner",
    }
    assert agent.status.status_code is StatusCode.UNSET

    agent_points = telemetry.points("gen_ai.invoke_agent.duration")
    assert point_count(agent_points, **{"gen_ai.agent.name": "planner", "gen_ai.operation.name": "invoke_agent"}) == 1
    tool_points = telemetry.points("gen_ai.execute_tool.duration")
    assert point_count(tool_points, **{"gen_ai.tool.name": "get_weather", "gen_ai.agent.name": "planner"}) == 1
    assert point_sum(telemetry.points("gen_ai.invoke_agent.inference_calls")) == len(fake.exchanges)
    assert point_sum(telemetry.points("gen_ai.invoke_agent.tool_calls")) == 1


def test_nothing_captured_by_default(client: openai.OpenAI, fake: FakeLLM, record: Any, telemetry: Telemetry) -> None:
    with llm.agent("planner") as run:
        run.record_input(f"weather in {SECRET_CITY}?")
        run.record_output(run_loop(client, fake, f"weather in {SECRET_CITY}?"))
    assert SECRET_CITY not in everything_exported(telemetry)


def test_content_under_capture(client: openai.OpenAI, fake: FakeLLM, record: Any, telemetry: Telemetry) -> None:
    record(capture=ContentCapture.SPAN_ONLY)
    with llm.agent("planner") as run:
        run.record_input(f"weather in {SECRET_CITY}?")
        answer = run_loop(client, fake, f"weather in {SECRET_CITY}?")
        run.record_output(answer)
    (agent,) = by_operation(telemetry.spans(), "invoke_agent")
    (tool,) = by_operation(telemetry.spans(), "execute_tool")
    assert decoded(tool.attributes["gen_ai.tool.call.arguments"]) == {"city": SECRET_CITY}
    assert tool.attributes["gen_ai.tool.call.result"] == f"sunny in {SECRET_CITY}"
    assert decoded(agent.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": f"weather in {SECRET_CITY}?"}]}
    ]
    assert decoded(agent.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": answer}], "finish_reason": "stop"}
    ]


@pytest.mark.parametrize(
    ("capture", "on_span", "on_event"),
    [
        (ContentCapture.NO_CONTENT, False, False),
        (ContentCapture.SPAN_ONLY, True, False),
        (ContentCapture.EVENT_ONLY, False, True),
        (ContentCapture.SPAN_AND_EVENT, True, True),
    ],
)
def test_content_goes_where_capture_says(
    capture: ContentCapture, on_span: bool, on_event: bool, record: Any, telemetry: Telemetry
) -> None:
    record(capture=capture)
    with llm.workflow("trip"), llm.agent("planner") as run:
        run.record_input(f"weather in {SECRET_CITY}?")
        get_weather(SECRET_CITY)
        run.record_output("sunny")
    spans = telemetry.spans()
    (tool,) = by_operation(spans, "execute_tool")
    (agent,) = by_operation(spans, "invoke_agent")
    content_keys = {"gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.input.messages"}
    assert bool(content_keys & {*tool.attributes, *agent.attributes}) is on_span
    events = telemetry.events("gen_ai.client.inference.operation.details")
    if not on_event:
        assert events == []
        assert (SECRET_CITY in everything_exported(telemetry)) is on_span
        return
    by_span = {e.span_id: e for e in events}
    assert set(by_span) == {tool.context.span_id, agent.context.span_id}  # nothing for the content-less workflow
    tool_event, agent_event = by_span[tool.context.span_id], by_span[agent.context.span_id]
    assert tool_event.trace_id == tool.context.trace_id
    assert tool_event.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool_event.attributes["gen_ai.tool.name"] == "get_weather"
    assert plain(tool_event.attributes["gen_ai.tool.call.arguments"]) == {"city": SECRET_CITY}  # structured
    assert tool_event.attributes["gen_ai.tool.call.result"] == f"sunny in {SECRET_CITY}"
    assert agent_event.attributes["gen_ai.agent.name"] == "planner"
    assert plain(agent_event.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": f"weather in {SECRET_CITY}?"}]}
    ]
    assert plain(agent_event.attributes["gen_ai.output.messages"])[0]["parts"][0]["content"] == "sunny"


def test_event_content_is_redacted() -> None:
    """The same redaction as for span attributes applies to the details event (the pipeline's processors)."""
    exported = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(RedactingLogRecordProcessor(SimpleLogRecordProcessor(exported), Redactor()))
    capture = ContentCapture.EVENT_ONLY
    agents.configure(logger_provider=provider, content=ContentSettings(capture=capture, emit_event=True))
    try:
        with llm.tool("mail") as handle:
            handle.record_input({"to": "jane.doe@example.com"})
    finally:
        agents._recorder = None
    (event,) = [entry.log_record for entry in exported.get_finished_logs()]
    assert "jane.doe@example.com" not in repr(dict(event.attributes))
    assert "to" in plain(event.attributes["gen_ai.tool.call.arguments"])


def test_tool_error_propagates_unchanged(
    client: openai.OpenAI, fake: FakeLLM, record: Any, telemetry: Telemetry
) -> None:
    with pytest.raises(LookupError) as raised, llm.agent("planner"):
        run_loop(client, fake, "weather?", tool=failing_tool)
    assert str(raised.value) == f"no station in {SECRET_CITY}"
    spans = telemetry.spans()
    (tool,) = by_operation(spans, "execute_tool")
    (agent,) = by_operation(spans, "invoke_agent")
    for span in (tool, agent):
        assert span.attributes["error.type"] == "LookupError"
        assert span.status.status_code is StatusCode.ERROR
    assert tool.name == "execute_tool explode"
    assert (
        point_count(
            telemetry.points("gen_ai.execute_tool.duration"),
            **{"gen_ai.tool.name": "explode", "error.type": "LookupError"},
        )
        == 1
    )
    assert point_count(telemetry.points("gen_ai.invoke_agent.duration"), **{"error.type": "LookupError"}) == 1


async def test_async_functions_and_generators(
    aclient: openai.AsyncOpenAI, fake: FakeLLM, record: Any, telemetry: Telemetry
) -> None:
    @llm.tool
    async def lookup(term: str) -> str:
        await asyncio.sleep(0)
        return term.upper()

    @llm.tool
    async def pages(count: int) -> Any:
        for page in range(count):
            await asyncio.sleep(0)
            yield page

    @llm.agent("researcher")
    async def research(question: str) -> str:
        first = await aclient.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}])
        found = [page async for page in pages(3)]
        return (first.choices[0].message.content or "") + await lookup("x") + str(found)

    answer = await research("what?")
    assert answer.endswith("X[0, 1, 2]")
    spans = telemetry.spans()
    assert_one_trace(spans)
    (agent,) = by_operation(spans, "invoke_agent")
    tools = by_operation(spans, "execute_tool")
    assert sorted(t.name for t in tools) == ["execute_tool lookup", "execute_tool pages"]
    assert all(is_ancestor(agent, s, spans) for s in [*tools, *inference_spans(spans)])
    assert all(t.attributes["gen_ai.agent.name"] == "researcher" for t in tools)
    assert point_sum(telemetry.points("gen_ai.invoke_agent.tool_calls")) == 2


def test_generator_closed_early_is_not_an_error(record: Any, telemetry: Telemetry) -> None:
    @llm.tool
    def numbers() -> Any:
        yield from range(10)

    gen = numbers()
    assert next(gen) == 0
    gen.close()
    (span,) = telemetry.spans()
    assert span.end_time is not None
    assert "error.type" not in span.attributes
    assert point_count(telemetry.points("gen_ai.execute_tool.duration")) == 1


def test_generator_send_and_throw_reach_the_body(record: Any, telemetry: Telemetry) -> None:
    @llm.workflow
    def echo() -> Any:
        received = yield "ready"
        while True:
            try:
                received = yield f"got {received}"
            except KeyError:
                received = "recovered"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("a") == "got a"
    assert gen.throw(KeyError("k")) == "got recovered"
    gen.close()
    (span,) = telemetry.spans()
    assert span.name == "invoke_workflow echo"


def test_workflow_around_agents(record: Any, telemetry: Telemetry) -> None:
    @llm.workflow("triage")
    def triage() -> None:
        with llm.agent("first"), llm.tool("search", call_id="call_9", type="extension") as handle:
            handle.record_input({"q": SECRET_CITY})  # not captured: nothing is recorded
        with llm.agent("second"):
            pass

    triage()
    spans = telemetry.spans()
    assert_one_trace(spans)
    (workflow,) = by_operation(spans, "invoke_workflow")
    assert workflow.name == "invoke_workflow triage"
    assert workflow.attributes["gen_ai.workflow.name"] == "triage"
    assert all(is_ancestor(workflow, s, spans) for s in spans if s is not workflow)
    (tool,) = by_operation(spans, "execute_tool")
    assert tool.attributes["gen_ai.tool.call.id"] == "call_9"
    assert tool.attributes["gen_ai.tool.type"] == "extension"
    assert tool.attributes["gen_ai.agent.name"] == "first"
    assert SECRET_CITY not in everything_exported(telemetry)
    points = telemetry.points("gen_ai.invoke_workflow.duration")
    assert point_count(points, **{"gen_ai.workflow.name": "triage"}) == 1
    # Per-run counts: "first" ran one tool, "second" none.
    counts = {p.attributes["gen_ai.agent.name"]: p.sum for p in telemetry.points("gen_ai.invoke_agent.tool_calls")}
    assert counts == {"first": 1, "second": 0}


def test_no_agent_no_count(client: openai.OpenAI, fake: FakeLLM, record: Any, telemetry: Telemetry) -> None:
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert telemetry.points("gen_ai.invoke_agent.inference_calls") == []
    (span,) = telemetry.spans()
    assert span.parent is None


def test_exemplars_only_on_durations(client: openai.OpenAI, fake: FakeLLM, record: Any, telemetry: Telemetry) -> None:
    """A duration record's exemplar leads to its own span; token and per-run count records carry none,
    although a sampled span (the agent's, the workflow's) is current when they are made."""

    @llm.workflow("triage")
    def triage() -> None:
        with llm.agent("planner"):
            run_loop(client, fake, "weather?")

    triage()
    spans = telemetry.spans()
    span_ids = {s.name.split(" ")[0]: s.context.span_id for s in spans}
    metrics = telemetry.metrics()  # one collection: the SDK hands each exemplar to one collection only

    def exemplar_spans(name: str) -> list[int]:
        return [e.span_id for p in metrics[name].data.data_points for e in p.exemplars]

    # The SDK keeps one exemplar per histogram bucket: the two model calls may share one.
    inference = exemplar_spans("gen_ai.client.operation.duration")
    assert inference and set(inference) <= {s.context.span_id for s in inference_spans(spans)}
    assert exemplar_spans("gen_ai.invoke_agent.duration") == [span_ids["invoke_agent"]]
    assert exemplar_spans("gen_ai.execute_tool.duration") == [span_ids["execute_tool"]]
    assert exemplar_spans("gen_ai.invoke_workflow.duration") == [span_ids["invoke_workflow"]]
    for name in ("gen_ai.client.token.usage", "gen_ai.invoke_agent.inference_calls", "gen_ai.invoke_agent.tool_calls"):
        assert metrics[name].data.data_points, name
        assert exemplar_spans(name) == [], name
