"""LangChain / LangGraph (real packages) against the fake provider: agents, graphs, RAG, one trace each."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

import openai
import pytest
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from langgraph.graph import END, START, StateGraph

from opentelemetry_instrumentation_llm import cost
from opentelemetry_instrumentation_llm.instrumentor import AnthropicInstrumentor, OpenAIInstrumentor
from opentelemetry_instrumentation_llm.integrations import LangChainInstrumentor
from opentelemetry_instrumentation_llm.processors import Processors, ProcessorSettings
from opentelemetry_instrumentation_llm.testing import FakeLLM, FakeLLMServer, Reply
from tests.agents.shape import assert_one_trace, by_operation, inference_spans, is_ancestor, point_count, point_sum
from tests.conftest import Telemetry, everything_exported, instrument_fixture

SECRET_CITY = "Quimper-7731"
SECRET_EMAIL = "jane.doe@example.com"
PRICES = {"input": 2.0, "output": 8.0}  # USD per million tokens, for the fake's self-hosted gpt-4o
instrument_langchain = instrument_fixture(LangChainInstrumentor)
instrument_openai = instrument_fixture(OpenAIInstrumentor)
instrument_anthropic = instrument_fixture(AnthropicInstrumentor)


@tool
def get_weather(city: str) -> str:
    """Current weather of a city."""
    return f"sunny in {city}"


@tool
def broken_lookup(city: str) -> str:
    """A tool that fails."""
    raise LookupError(f"no data for {city}")


class State(TypedDict):
    text: str


@pytest.fixture
def model(fake_server: FakeLLMServer, fake: FakeLLM) -> ChatOpenAI:
    # Its own async HTTP client: langchain-openai's shared default is bound to the first event loop.
    return ChatOpenAI(
        model="gpt-4o", base_url=fake_server.openai_base_url, api_key="sk-test-lc", max_retries=0,
        http_async_client=openai.DefaultAsyncHttpxClient(),
    )  # fmt: skip


@pytest.fixture
def instrumented(
    instrument_openai: Callable[..., Any],
    instrument_langchain: Callable[..., Any],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"prices": [{"provider": "openai", "model": "gpt-4o*", **PRICES}]}))
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_PRICES_FILE", str(prices))
    cost.reset()  # the price book is read once per process: read this test's file
    instrument_openai()
    instrument_langchain()
    yield
    cost.reset()


def react_agent(model: ChatOpenAI, tools: list[Any]) -> Any:
    from langgraph.prebuilt import create_react_agent

    with pytest.warns(Warning):  # deprecated in langgraph 1.x for langchain.agents.create_agent
        return create_react_agent(model, tools, name="weatherbot")


def two_node_graph(model: ChatOpenAI) -> Any:
    def shout(state: State) -> State:
        return {"text": state["text"].upper()}

    def answer(state: State) -> State:
        return {"text": str(model.invoke(state["text"]).content)}

    async def aanswer(state: State) -> State:
        return {"text": str((await model.ainvoke(state["text"])).content)}

    graph = StateGraph(State)
    graph.add_node("shout", shout)
    graph.add_node("answer", RunnableLambda(answer, afunc=aanswer))
    graph.add_edge(START, "shout")
    graph.add_edge("shout", "answer")
    graph.add_edge("answer", END)
    return graph.compile(name="two_nodes")


def assert_model_calls_once(telemetry: Telemetry, fake: FakeLLM) -> list[Any]:
    spans = telemetry.spans()
    calls = [s for s in spans if s.instrumentation_scope.name == "opentelemetry_instrumentation_llm.openai"]
    assert len(calls) == len(fake.exchanges) > 0  # one inference span per HTTP request, never two
    assert inference_spans(spans) == [s for s in calls if s.attributes["gen_ai.operation.name"] == "chat"]
    for span in inference_spans(spans):
        assert span.attributes["gen_ai.usage.input_tokens"] > 0
        assert span.attributes["gen_ai.usage.output_tokens"] > 0
        tokens = span.attributes["gen_ai.usage.input_tokens"], span.attributes["gen_ai.usage.output_tokens"]
        expected = (tokens[0] * PRICES["input"] + tokens[1] * PRICES["output"]) / 1e6
        assert span.attributes["gen_ai.usage.cost.amount"] == pytest.approx(expected)
    return calls


def test_react_agent_with_a_tool_is_one_trace(
    model: ChatOpenAI, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    fake.push(
        Reply(tool_calls=[{"id": "call_w", "name": "get_weather", "arguments": json.dumps({"city": SECRET_CITY})}])
    )
    agent = react_agent(model, [get_weather])
    result = agent.invoke({"messages": [("user", f"weather in {SECRET_CITY}?")]})
    assert result["messages"][-1].content == f"answer from tool: sunny in {SECRET_CITY}"

    spans = telemetry.spans()
    assert_one_trace(spans)
    (agent_span,) = by_operation(spans, "invoke_agent")
    assert agent_span.name == "invoke_agent weatherbot" and agent_span.parent is None
    (tool_span,) = by_operation(spans, "execute_tool")
    assert tool_span.name == "execute_tool get_weather"
    assert tool_span.attributes["gen_ai.tool.call.id"] == "call_w"
    assert tool_span.attributes["gen_ai.agent.name"] == "weatherbot"
    assert tool_span.parent.span_id == agent_span.context.span_id
    calls = assert_model_calls_once(telemetry, fake)
    assert len(calls) == 2 and all(s.parent.span_id == agent_span.context.span_id for s in calls)
    assert not by_operation(spans, "invoke_workflow")  # the agent is the root: no extra node spans
    assert SECRET_CITY not in everything_exported(telemetry)
    assert point_sum(telemetry.points("gen_ai.invoke_agent.inference_calls")) == 2
    assert point_sum(telemetry.points("gen_ai.invoke_agent.tool_calls")) == 1
    assert point_count(telemetry.points("gen_ai.execute_tool.duration"), **{"gen_ai.tool.name": "get_weather"}) == 1


def test_create_agent_over_chat_anthropic(
    fake_server: FakeLLMServer,
    fake: FakeLLM,
    telemetry: Telemetry,
    instrument_anthropic: Callable[..., Any],
    instrument_langchain: Callable[..., Any],
) -> None:
    """``langchain.agents.create_agent`` (the successor of create_react_agent) over ChatAnthropic:
    the anthropic SDK's calls are ours, one span each, inside the agent; its own spans are not added."""
    import langchain.agents as agents
    import langchain_anthropic

    instrument_anthropic()
    instrument_langchain()
    model = langchain_anthropic.ChatAnthropic(
        model="claude-sonnet-4-5", base_url=fake_server.anthropic_base_url, api_key="sk-ant-test", max_retries=0
    )
    fake.push(Reply(tool_calls=[{"id": "toolu_1", "name": "get_weather", "arguments": json.dumps({"city": "Brest"})}]))
    agents.create_agent(model, [get_weather], name="planner").invoke({"messages": [("user", "weather in Brest?")]})
    spans = telemetry.spans()
    assert_one_trace(spans)
    (agent_span,) = by_operation(spans, "invoke_agent")
    assert agent_span.name == "invoke_agent planner" and agent_span.parent is None
    (tool_span,) = by_operation(spans, "execute_tool")
    assert tool_span.attributes["gen_ai.agent.name"] == "planner"
    calls = inference_spans(spans)
    assert len(calls) == len(fake.exchanges) == 2
    assert {s.instrumentation_scope.name for s in calls} == {"opentelemetry_instrumentation_llm.anthropic"}
    assert all(s.parent.span_id == agent_span.context.span_id for s in calls)
    assert len(spans) == 4


_CORE_ONLY = """
import sys, json
sys.modules["langchain"] = None  # an application with langchain-core and langgraph only
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry_instrumentation_llm import instrument
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
instrument(tracer_provider=provider)
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph
model = GenericFakeChatModel(messages=iter([AIMessage(content="hello")]))
graph = StateGraph(MessagesState)
graph.add_node("model", lambda state: {"messages": [model.invoke(state["messages"])]})
graph.add_edge(START, "model")
graph.compile(name="core_only").invoke({"messages": [("user", "hi")]})
print(json.dumps(sorted(span.name for span in exporter.get_finished_spans())))
"""


def test_loads_with_langchain_core_and_langgraph_alone() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _CORE_ONLY], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == ["chat", "invoke_workflow core_only"]


def run_graph(app: Any, mode: str) -> str:
    if mode == "invoke":
        return str(app.invoke({"text": "hi"})["text"])
    if mode == "stream":
        return str([chunk for chunk in app.stream({"text": "hi"})][-1]["answer"]["text"])

    async def main() -> str:
        if mode == "ainvoke":
            return str((await app.ainvoke({"text": "hi"}))["text"])
        return str([chunk async for chunk in app.astream({"text": "hi"})][-1]["answer"]["text"])

    return asyncio.run(main())


@pytest.mark.parametrize("mode", ["invoke", "stream", "ainvoke", "astream"])
def test_two_node_graph_is_one_workflow(
    mode: str, model: ChatOpenAI, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    assert run_graph(two_node_graph(model), mode) == "echo: HI"
    spans = telemetry.spans()
    assert_one_trace(spans)
    (workflow,) = by_operation(spans, "invoke_workflow")
    assert workflow.name == "invoke_workflow two_nodes" and workflow.parent is None
    (call,) = assert_model_calls_once(telemetry, fake)
    assert call.parent.span_id == workflow.context.span_id
    assert len(spans) == 2  # nodes and inner chains get no spans of their own
    assert (
        point_count(telemetry.points("gen_ai.invoke_workflow.duration"), **{"gen_ai.workflow.name": "two_nodes"}) == 1
    )


def test_graph_runs_in_parallel_threads_keep_their_own_traces(
    model: ChatOpenAI, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    app = two_node_graph(model)
    threads = [threading.Thread(target=run_graph, args=(app, mode)) for mode in ("invoke", "stream", "ainvoke") * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    spans = telemetry.spans()
    workflows = by_operation(spans, "invoke_workflow")
    assert len(workflows) == 6 and len({w.context.trace_id for w in workflows}) == 6
    calls = inference_spans(spans)
    assert len(calls) == len(fake.exchanges) == 6
    for call in calls:
        (parent,) = [w for w in workflows if w.context.span_id == call.parent.span_id]
        assert parent.context.trace_id == call.context.trace_id


class Pair(TypedDict, total=False):
    left: str
    right: str


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_parallel_nodes_calling_the_sdk_directly_nest_under_the_graph(
    mode: str, fake_server: FakeLLMServer, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    """Two nodes in one step run concurrently (LangGraph's thread pool, or asyncio tasks); their
    SDK calls, which LangChain does not see, still find the graph's span."""
    client = openai.OpenAI(api_key="sk-test-lc", base_url=fake_server.openai_base_url, max_retries=0)
    aclient = openai.AsyncOpenAI(api_key="sk-test-lc", base_url=fake_server.openai_base_url, max_retries=0)
    ask = [{"role": "user", "content": "hi"}]

    def node(key: str) -> Any:
        def call(_state: Pair) -> Pair:
            return {key: str(client.chat.completions.create(model="gpt-4o", messages=ask).id)}  # type: ignore[misc]

        async def acall(_state: Pair) -> Pair:
            reply = await aclient.chat.completions.create(model="gpt-4o", messages=ask)  # type: ignore[arg-type]
            return {key: str(reply.id)}  # type: ignore[misc]

        return RunnableLambda(call, afunc=acall)

    graph = StateGraph(Pair)
    for key in ("left", "right"):
        graph.add_node(key, node(key))
        graph.add_edge(START, key)
        graph.add_edge(key, END)
    app = graph.compile(name="fan_out")
    if mode == "sync":
        app.invoke({})
    else:
        asyncio.run(app.ainvoke({}))
    spans = telemetry.spans()
    assert_one_trace(spans)
    (workflow,) = by_operation(spans, "invoke_workflow")
    calls = inference_spans(spans)
    assert len(calls) == len(fake.exchanges) == 2
    assert all(call.parent.span_id == workflow.context.span_id for call in calls)
    client.close()


def test_no_context_leaks_into_the_caller(
    model: ChatOpenAI, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    from opentelemetry import trace

    app = two_node_graph(model)

    async def main() -> list[bool]:
        await app.ainvoke({"text": "hi"})
        after_ainvoke = trace.get_current_span().get_span_context().is_valid
        async for _ in app.astream({"text": "hi"}):
            break  # the caller abandons the stream
        return [after_ainvoke, trace.get_current_span().get_span_context().is_valid]

    assert asyncio.run(main()) == [False, False]
    for _ in app.stream({"text": "hi"}):
        break
    assert not trace.get_current_span().get_span_context().is_valid
    app.invoke({"text": "hi"})
    assert not trace.get_current_span().get_span_context().is_valid
    workflows = by_operation(telemetry.spans(), "invoke_workflow")
    assert len(workflows) == 4 and len({w.context.trace_id for w in workflows}) == 4
    assert not any("error.type" in w.attributes for w in workflows)  # an abandoned stream is no failure


def test_rag_chain_over_an_in_memory_vector_store(
    model: ChatOpenAI, fake_server: FakeLLMServer, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    embeddings = OpenAIEmbeddings(
        model="text-embedding-3-small", base_url=fake_server.openai_base_url, api_key="sk-test-lc",
        check_embedding_ctx_length=False,
    )  # fmt: skip
    store = InMemoryVectorStore.from_documents(
        [Document(page_content=f"{SECRET_CITY} is by the sea", id="d1"), Document(page_content="Lyon", id="d2")],
        embeddings,
    )
    telemetry.span_exporter.clear()
    before = len(fake.exchanges)
    prompt = ChatPromptTemplate.from_messages([("user", "Context: {context}\nQuestion: {question}")])
    chain = (
        {"context": store.as_retriever(search_kwargs={"k": 1}), "question": lambda q: q}
        | prompt
        | model
        | StrOutputParser()
    ).with_config(run_name="rag")
    assert chain.invoke(f"where is {SECRET_CITY}?").startswith("echo: ")

    spans = telemetry.spans()
    assert_one_trace(spans)
    (workflow,) = by_operation(spans, "invoke_workflow")
    assert workflow.name == "invoke_workflow rag"
    (retrieval,) = by_operation(spans, "retrieval")
    assert retrieval.name == "retrieval InMemoryVectorStore"
    assert retrieval.attributes["gen_ai.data_source.id"] == "InMemoryVectorStore"
    assert is_ancestor(workflow, retrieval, spans)
    (embedding,) = [s for s in spans if s.attributes.get("gen_ai.operation.name") == "embeddings"]
    assert is_ancestor(retrieval, embedding, spans)  # the query's embedding call nests under the retrieval
    (chat,) = inference_spans(spans)
    assert is_ancestor(workflow, chat, spans)
    assert len(fake.exchanges) - before == 2  # one embeddings and one chat request, one span each
    assert SECRET_CITY not in everything_exported(telemetry)


def test_model_we_do_not_instrument_gets_its_span_from_the_callback(
    telemetry: Telemetry, instrument_langchain: Callable[..., Any]
) -> None:
    instrument_langchain()
    reply = AIMessage(
        content="hello",
        usage_metadata={"input_tokens": 5, "output_tokens": 7, "total_tokens": 12},
        response_metadata={"finish_reason": "stop", "model_name": "fake-model-1"},
    )
    chain = RunnableLambda(lambda text: text) | GenericFakeChatModel(messages=iter([reply]))
    assert chain.invoke("hi").content == "hello"
    spans = telemetry.spans()
    assert_one_trace(spans)
    (chat,) = inference_spans(spans)
    assert chat.instrumentation_scope.name == "opentelemetry_instrumentation_llm.langchain"
    assert chat.attributes["gen_ai.usage.input_tokens"] == 5
    assert chat.attributes["gen_ai.usage.output_tokens"] == 7
    assert chat.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert chat.attributes["gen_ai.response.model"] == "fake-model-1"
    (workflow,) = by_operation(spans, "invoke_workflow")
    assert chat.parent.span_id == workflow.context.span_id
    assert len(telemetry.points("gen_ai.client.operation.duration")) == 1


def test_failing_tool_and_node_end_every_span_once_with_error_type(
    model: ChatOpenAI, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    fake.push(Reply(tool_calls=[{"id": "call_b", "name": "broken_lookup", "arguments": json.dumps({"city": "X"})}]))
    agent = react_agent(model, [broken_lookup])
    with pytest.raises(LookupError):
        agent.invoke({"messages": [("user", "weather?")]})
    spans = telemetry.spans()
    (tool_span,) = by_operation(spans, "execute_tool")
    assert tool_span.attributes["error.type"] == "LookupError"
    (agent_span,) = by_operation(spans, "invoke_agent")
    assert agent_span.attributes["error.type"] == "LookupError"
    assert len(inference_spans(spans)) == len(fake.exchanges) == 1

    telemetry.span_exporter.clear()

    def explode(state: State) -> State:
        raise ValueError("node failed")

    graph = StateGraph(State)
    graph.add_node("explode", explode)
    graph.add_edge(START, "explode")
    with pytest.raises(ValueError, match="node failed"):
        graph.compile(name="failing").invoke({"text": "hi"})
    (workflow,) = telemetry.spans()
    assert workflow.attributes["error.type"] == "ValueError"


def test_cancelled_async_run_ends_its_spans(
    model: ChatOpenAI, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    started = asyncio.Event()

    async def wait_forever(state: State) -> State:
        started.set()
        await asyncio.Event().wait()
        return state

    graph = StateGraph(State)
    graph.add_node("wait", wait_forever)
    graph.add_edge(START, "wait")
    app = graph.compile(name="cancelled")

    async def main() -> None:
        task = asyncio.create_task(app.ainvoke({"text": "hi"}))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    (workflow,) = telemetry.spans()
    assert workflow.attributes["error.type"] == "CancelledError"


def test_content_capture_goes_through_redaction(fake_server: FakeLLMServer, fake: FakeLLM) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    chain = Processors.create(ProcessorSettings.from_env({"OTEL_INSTRUMENTATION_LLM_REDACT": "all"}))
    provider = TracerProvider()
    provider.add_span_processor(chain.span_processor(SimpleSpanProcessor(exporter)))
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider, capture_content=True)
    try:
        retriever = InMemoryVectorStore.from_documents(
            [Document(page_content=f"write to {SECRET_EMAIL}")], _WordEmbeddings()
        ).as_retriever()
        (RunnableLambda(lambda q: q) | retriever).invoke(f"who is {SECRET_EMAIL}?")
        get_weather.invoke({"city": SECRET_EMAIL})
    finally:
        instrumentor.uninstrument()
    spans = {s.attributes["gen_ai.operation.name"]: s for s in exporter.get_finished_spans()}
    assert "[REDACTED:email]" in spans["retrieval"].attributes["gen_ai.retrieval.query.text"]
    assert "[REDACTED:email]" in spans["retrieval"].attributes["gen_ai.retrieval.documents"]
    assert "[REDACTED:email]" in spans["execute_tool"].attributes["gen_ai.tool.call.arguments"]
    assert "[REDACTED:email]" in spans["execute_tool"].attributes["gen_ai.tool.call.result"]
    assert SECRET_EMAIL not in "\n".join(s.to_json() for s in exporter.get_finished_spans())


def test_uninstrument_stops_recording(
    model: ChatOpenAI, fake: FakeLLM, telemetry: Telemetry, instrument_langchain: Callable[..., Any]
) -> None:
    from langchain_core.tracers import context as lc_context

    instrumentor = instrument_langchain()
    hooks = len(lc_context._configure_hooks)
    instrumentor.uninstrument()
    assert len(lc_context._configure_hooks) == hooks - 1
    assert run_graph(two_node_graph(model), "invoke") == "echo: HI"
    assert telemetry.spans() == []


class _WordEmbeddings:
    """Deterministic local embeddings (letter counts), for tests that need no provider."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return [float(text.lower().count(letter)) for letter in "aeiou"]
