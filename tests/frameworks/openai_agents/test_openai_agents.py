"""The OpenAI Agents SDK (real package) against the fake provider: a handoff and a function tool, one trace."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from agents import (
    Agent,
    GuardrailFunctionOutput,
    InputGuardrail,
    InputGuardrailTripwireTriggered,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    OutputGuardrail,
    OutputGuardrailTripwireTriggered,
    RunContextWrapper,
    Runner,
    function_tool,
)
from agents.tracing import set_trace_processors
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry_instrumentation_llm.instrumentor import OpenAIInstrumentor
from opentelemetry_instrumentation_llm.integrations import OpenAIAgentsInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLM, FakeLLMServer, Reply
from tests.agents.shape import (
    assert_one_trace,
    by_operation,
    inference_spans,
    is_ancestor,
    point_count,
    point_sum,
)
from tests.conftest import Telemetry, everything_exported, instrument_fixture

SECRET_CITY = "Quimper-7731"
instrument_agents = instrument_fixture(OpenAIAgentsInstrumentor)
instrument_openai = instrument_fixture(OpenAIInstrumentor)


@function_tool
def get_weather(city: str) -> str:
    """Current weather of a city."""
    return f"sunny in {city}"


@pytest.fixture(autouse=True)
def _no_export_to_openai() -> Iterator[None]:
    """The SDK's default processor would upload traces to OpenAI: tests keep only ours."""
    set_trace_processors([])
    yield
    set_trace_processors([])


@pytest.fixture
def aclient(fake_server: FakeLLMServer, fake: FakeLLM) -> Iterator[openai.AsyncOpenAI]:
    yield openai.AsyncOpenAI(api_key="sk-test-agents", base_url=fake_server.openai_base_url, max_retries=0)


def build_agents(
    client: openai.AsyncOpenAI,
    api: str,
    guardrails: list[Any] | None = None,
    output_guardrails: list[Any] | None = None,
) -> Agent[Any]:
    model_type = OpenAIResponsesModel if api == "responses" else OpenAIChatCompletionsModel
    weather = Agent(
        name="weather",
        instructions="Answer about weather.",
        tools=[get_weather],
        output_guardrails=output_guardrails or [],
        model=model_type(model="gpt-4o", openai_client=client),
    )
    return Agent(
        name="triage",
        instructions="Route the question.",
        handoffs=[weather],
        input_guardrails=guardrails or [],
        model=model_type(model="gpt-4o", openai_client=client),
    )


def topic_guardrail(trip: bool) -> InputGuardrail[Any]:
    async def check(_ctx: RunContextWrapper[Any], _agent: Agent[Any], text: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info={"seen": str(text)}, tripwire_triggered=trip)

    return InputGuardrail(guardrail_function=check, name="topic_check")


def script(fake: FakeLLM) -> None:
    """Triage hands off, the weather agent calls its tool, then answers from the tool's result."""
    fake.push(
        Reply(tool_calls=[{"id": "call_h", "name": "transfer_to_weather", "arguments": "{}"}]),
        Reply(tool_calls=[{"id": "call_w", "name": "get_weather", "arguments": json.dumps({"city": SECRET_CITY})}]),
    )


async def run(agent: Agent[Any], streamed: bool) -> str:
    if streamed:
        result = Runner.run_streamed(agent, f"weather in {SECRET_CITY}?")
        async for _ in result.stream_events():
            pass
        return str(result.final_output)
    return str((await Runner.run(agent, f"weather in {SECRET_CITY}?")).final_output)


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_run_is_one_trace_with_one_span_per_model_call(
    api: str,
    streamed: bool,
    aclient: openai.AsyncOpenAI,
    fake: FakeLLM,
    telemetry: Telemetry,
    instrument_agents: Callable[..., Any],
    instrument_openai: Callable[..., Any],
) -> None:
    instrument_openai()
    instrument_agents()
    script(fake)
    answer = await run(build_agents(aclient, api), streamed)
    assert answer == f"answer from tool: sunny in {SECRET_CITY}"

    spans = telemetry.spans()
    assert_one_trace(spans)
    (workflow,) = by_operation(spans, "invoke_workflow")
    assert workflow.parent is None
    agents_by_name = {s.attributes["gen_ai.agent.name"]: s for s in by_operation(spans, "invoke_agent")}
    assert set(agents_by_name) == {"triage", "weather"}
    (tool,) = by_operation(spans, "execute_tool")
    assert tool.name == "execute_tool get_weather"
    assert tool.attributes["gen_ai.agent.name"] == "weather"
    assert is_ancestor(agents_by_name["weather"], tool, spans)
    chats = inference_spans(spans)
    assert len(chats) == len(fake.exchanges) == 3  # one inference span per HTTP request, never two
    assert all(s.instrumentation_scope.name == "opentelemetry_instrumentation_llm.openai" for s in chats)
    assert all(any(is_ancestor(a, s, spans) for a in agents_by_name.values()) for s in chats)
    assert SECRET_CITY not in everything_exported(telemetry)

    (handoff,) = by_operation(spans, "handoff")
    assert handoff.name == "handoff weather" and handoff.kind is SpanKind.INTERNAL
    assert handoff.attributes["gen_ai.agent.name"] == "triage"
    assert handoff.attributes["llm.handoff.target_agent.name"] == "weather"
    assert handoff.parent is not None and handoff.parent.span_id == agents_by_name["triage"].context.span_id
    assert handoff.end_time <= agents_by_name["weather"].start_time  # the transfer, then the next agent

    assert point_count(telemetry.points("gen_ai.invoke_agent.duration"), **{"gen_ai.agent.name": "weather"}) == 1
    assert point_count(telemetry.points("gen_ai.execute_tool.duration"), **{"gen_ai.tool.name": "get_weather"}) == 1
    assert point_sum(telemetry.points("gen_ai.invoke_agent.inference_calls")) == 3
    assert point_sum(telemetry.points("gen_ai.invoke_agent.tool_calls"), **{"gen_ai.agent.name": "weather"}) == 1


async def test_model_calls_from_the_sdk_when_openai_is_not_instrumented(
    aclient: openai.AsyncOpenAI, fake: FakeLLM, telemetry: Telemetry, instrument_agents: Callable[..., Any]
) -> None:
    instrument_agents()
    script(fake)
    await run(build_agents(aclient, "responses"), streamed=False)
    spans = telemetry.spans()
    assert_one_trace(spans)
    chats = inference_spans(spans)
    assert len(chats) == len(fake.exchanges) == 3
    for span in chats:
        assert span.instrumentation_scope.name == "opentelemetry_instrumentation_llm.openai_agents"
        assert span.attributes["gen_ai.provider.name"] == "openai"
        assert span.attributes["gen_ai.usage.input_tokens"] > 0
        assert span.attributes["gen_ai.response.model"] == "gpt-4o-2026-01-01"
    assert [s.attributes["gen_ai.response.finish_reasons"] for s in chats] == [
        ("tool_call",),
        ("tool_call",),
        ("stop",),
    ]
    assert len(telemetry.points("gen_ai.client.operation.duration")) >= 1


async def test_uninstrument_stops_recording(
    aclient: openai.AsyncOpenAI, fake: FakeLLM, telemetry: Telemetry, instrument_agents: Callable[..., Any]
) -> None:
    instrument_agents().uninstrument()
    script(fake)
    await run(build_agents(aclient, "responses"), streamed=False)
    assert telemetry.spans() == []


def answer_guardrail(trip: bool) -> OutputGuardrail[Any]:
    async def check(_ctx: RunContextWrapper[Any], _agent: Agent[Any], output: Any) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info={"seen": str(output)}, tripwire_triggered=trip)

    return OutputGuardrail(guardrail_function=check, name="answer_check")


# Where a guardrail sits: (build_agents keyword, guardrail factory, its name, the agent it guards,
# the exception a trip raises). The input guardrail checks triage's input; the output guardrail
# checks the weather agent's final answer.
GUARDRAILS: dict[str, tuple[str, Callable[[bool], Any], str, str, type[Exception]]] = {
    "input": ("guardrails", topic_guardrail, "topic_check", "triage", InputGuardrailTripwireTriggered),
    "output": ("output_guardrails", answer_guardrail, "answer_check", "weather", OutputGuardrailTripwireTriggered),
}


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])
@pytest.mark.parametrize("trip", [False, True], ids=["passes", "trips"])
@pytest.mark.parametrize("side", GUARDRAILS)
async def test_guardrail(
    side: str,
    trip: bool,
    streamed: bool,
    aclient: openai.AsyncOpenAI,
    fake: FakeLLM,
    telemetry: Telemetry,
    instrument_agents: Callable[..., Any],
    instrument_openai: Callable[..., Any],
) -> None:
    """A guardrail's span under the agent it guards, its verdict as the result (not an error), and a
    tripped one's exception carried to that agent and the run, reaching the caller unchanged."""
    keyword, guardrail_of, name, guarded, tripped = GUARDRAILS[side]
    instrument_openai()
    instrument_agents()
    script(fake)
    agent = build_agents(aclient, "responses", **{keyword: [guardrail_of(trip)]})
    if trip:
        with pytest.raises(tripped) as raised:
            await run(agent, streamed)
        assert type(raised.value) is tripped  # unchanged, not wrapped
        assert raised.value.guardrail_result.guardrail.get_name() == name
    else:
        assert await run(agent, streamed) == f"answer from tool: sunny in {SECRET_CITY}"

    spans = telemetry.spans()
    assert_one_trace(spans)
    assert len({s.context.span_id for s in spans}) == len(spans)  # every span ended once
    (workflow,) = by_operation(spans, "invoke_workflow")
    (owner,) = [s for s in by_operation(spans, "invoke_agent") if s.attributes["gen_ai.agent.name"] == guarded]
    (guardrail,) = by_operation(spans, "apply_guardrail")
    assert guardrail.name == f"apply_guardrail {name}" and guardrail.kind is SpanKind.INTERNAL
    assert is_ancestor(owner, guardrail, spans)
    result = {
        "gen_ai.guardrail.component.name": name,
        "gen_ai.guardrail.result.type": "tripwire_triggered",
        "gen_ai.guardrail.result.value": "true" if trip else "false",
    }
    assert {k: guardrail.attributes[k] for k in result} == result
    (event,) = telemetry.events("gen_ai.guardrail.result")
    assert dict(event.attributes) == result
    assert event.span_id == guardrail.context.span_id
    assert "error.type" not in guardrail.attributes  # the guardrail worked; its verdict is not an error
    chats = inference_spans(spans)
    assert len(chats) == len(fake.exchanges)
    assert all(is_ancestor(workflow, s, spans) for s in chats)
    if side == "output":
        assert len(chats) == 3  # the whole run happened: the guardrail checks the final answer
    if trip:
        for span in (owner, workflow):
            assert span.attributes["error.type"] == tripped.__name__, span.name
            assert span.status.status_code is StatusCode.ERROR
        if side == "input":
            assert by_operation(spans, "execute_tool") == []
        points = telemetry.points("gen_ai.invoke_workflow.duration")
        assert point_count(points, **{"error.type": tripped.__name__}) == 1
    else:
        assert "error.type" not in workflow.attributes and "error.type" not in owner.attributes
