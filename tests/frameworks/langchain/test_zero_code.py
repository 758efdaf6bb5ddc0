"""Zero code: ``opentelemetry-instrument`` on a LangGraph app (a ReAct agent with a tool over
ChatOpenAI, run from a graph node in a thread pool): one trace through a real collector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from opentelemetry_instrumentation_llm.testing import FakeLLM, FakeLLMServer, Reply
from tests.e2e.collector import OTLPSink, Rotel, wait_until
from tests.e2e.launcher import launch, to_collector, trace_of

APP = """
import os, warnings
from typing import TypedDict
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langgraph.graph import END, START, StateGraph
warnings.simplefilter("ignore")
from langgraph.prebuilt import create_react_agent

@tool
def get_weather(city: str) -> str:
    \"\"\"Current weather of a city.\"\"\"
    return f"sunny in {city}"

model = ChatOpenAI(model="gpt-4o", base_url=os.environ["FAKE_LLM_URL"] + "/v1", api_key="sk-zero-code-lc")
agent = create_react_agent(model, [get_weather], name="weatherbot")

class State(TypedDict):
    question: str
    answer: str

def ask(state: State) -> State:
    reply = agent.invoke({"messages": [("user", state["question"])]})
    return {"question": state["question"], "answer": reply["messages"][-1].content}

graph = StateGraph(State)
graph.add_node("ask", ask)
graph.add_edge(START, "ask")
graph.add_edge("ask", END)
print("answer:", graph.compile(name="assistant").invoke({"question": "weather in Brest-9120?"})["answer"])
"""


def test_langgraph_app_is_one_trace_through_the_collector(
    tmp_path: Path, fake_server: FakeLLMServer, fake: FakeLLM, collector: Rotel, sink: OTLPSink
) -> None:
    (tmp_path / "app.py").write_text(APP)
    fake.push(
        Reply(tool_calls=[{"id": "call_1", "name": "get_weather", "arguments": json.dumps({"city": "Brest-9120"})}])
    )
    env = {
        "FAKE_LLM_URL": fake_server.url,
        "OTEL_SERVICE_NAME": "langgraph-app",
        **to_collector(collector.grpc_endpoint),
        # Other LangChain instrumentations (installed for benchmarks/bench_frameworks.py) stay out.
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "langchain",
    }
    result = launch(tmp_path / "app.py", env)
    assert "answer: answer from tool: sunny in Brest-9120" in result.stdout

    def run_spans() -> list[Any]:
        return trace_of(sink.spans(), "invoke_workflow assistant")

    expected = ["chat gpt-4o", "chat gpt-4o", "execute_tool get_weather", "invoke_agent weatherbot",
                "invoke_workflow assistant"]  # fmt: skip
    wait_until(lambda: sorted(s.name for s in run_spans()) == expected, 30, "the run's five spans")
    spans = {s.name: s for s in run_spans()}
    assert len(fake.exchanges) == 2
    assert spans["invoke_agent weatherbot"].parent_span_id == spans["invoke_workflow assistant"].span_id
    assert spans["execute_tool get_weather"].parent_span_id == spans["invoke_agent weatherbot"].span_id
    chats = [s for s in run_spans() if s.name == "chat gpt-4o"]
    assert all(s.parent_span_id == spans["invoke_agent weatherbot"].span_id for s in chats)
    assert "Brest-9120" not in repr(sink.trace_requests)  # no content by default
    assert "sk-zero-code-lc" not in repr(sink.trace_requests)
