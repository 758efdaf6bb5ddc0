"""LlamaIndex (real llama-index-core) against the fake provider: a query over an in-memory index, an
agent with a tool; one trace each, model calls once.

``llama-index-llms-openai`` requires ``openai<3``, so the LLM here is a small ``CustomLLM`` that calls
the (instrumented) openai 3.x SDK itself: a model the LlamaIndex adapter does not know, whose span
therefore comes from the LlamaIndex side, with the SDK's nested span suppressed. Embeddings use the
real ``OpenAIEmbedding`` (llama-index-embeddings-openai works with openai 3.x): its calls are our
openai SDK spans.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import ReActAgent
from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.tools import FunctionTool
from llama_index.embeddings.openai import OpenAIEmbedding

from opentelemetry_instrumentation_llm.instrumentor import OpenAIInstrumentor
from opentelemetry_instrumentation_llm.integrations import LlamaIndexInstrumentor
from opentelemetry_instrumentation_llm.testing import FakeLLM, FakeLLMServer, Reply
from tests.agents.shape import assert_one_trace, by_operation, inference_spans, is_ancestor, point_sum
from tests.conftest import Telemetry, everything_exported, instrument_fixture

SECRET_CITY = "Quimper-7731"
instrument_llama_index = instrument_fixture(LlamaIndexInstrumentor)
instrument_openai = instrument_fixture(OpenAIInstrumentor)


class SdkBackedLLM(CustomLLM):
    """A completion LLM over the openai SDK (chat completions), streamed as one chunk."""

    client: Any = None

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="gpt-4o", is_chat_model=False)

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        reply = self.client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}])
        return CompletionResponse(text=reply.choices[0].message.content or "", raw=reply)

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        response = self.complete(prompt)
        yield CompletionResponse(text=response.text, delta=response.text, raw=response.raw)


@pytest.fixture
def llm(fake_server: FakeLLMServer, fake: FakeLLM) -> Iterator[SdkBackedLLM]:
    with openai.OpenAI(api_key="sk-test-li", base_url=fake_server.openai_base_url, max_retries=0) as client:
        yield SdkBackedLLM(client=client)


@pytest.fixture
def embeddings(fake_server: FakeLLMServer) -> OpenAIEmbedding:
    return OpenAIEmbedding(api_key="sk-test-li", api_base=fake_server.openai_base_url, max_retries=0)


@pytest.fixture
def instrumented(instrument_openai: Callable[..., Any], instrument_llama_index: Callable[..., Any]) -> None:
    instrument_openai()
    instrument_llama_index()


def index_of(embeddings: OpenAIEmbedding) -> VectorStoreIndex:
    documents = [Document(text=f"{SECRET_CITY} is by the sea."), Document(text="Lyon is by two rivers.")]
    return VectorStoreIndex.from_documents(documents, embed_model=embeddings)


def test_query_over_an_in_memory_index_is_one_trace(
    llm: SdkBackedLLM, embeddings: OpenAIEmbedding, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    index = index_of(embeddings)
    telemetry.span_exporter.clear()
    before = len(fake.exchanges)
    answer = index.as_query_engine(llm=llm, similarity_top_k=2).query(f"where is {SECRET_CITY}?")
    assert SECRET_CITY in str(answer)  # the fake echoes the prompt, context included

    spans = telemetry.spans()
    assert_one_trace(spans)
    (workflow,) = by_operation(spans, "invoke_workflow")
    assert workflow.name == "invoke_workflow RetrieverQueryEngine" and workflow.parent is None
    (retrieval,) = by_operation(spans, "retrieval")
    assert retrieval.name == "retrieval SimpleVectorStore"
    assert retrieval.attributes["gen_ai.retrieval.top_k"] == 2
    assert retrieval.parent.span_id == workflow.context.span_id
    (embedding,) = by_operation(spans, "embeddings")
    assert embedding.instrumentation_scope.name == "opentelemetry_instrumentation_llm.openai"
    assert embedding.parent.span_id == retrieval.context.span_id
    (chat,) = inference_spans(spans)
    assert chat.instrumentation_scope.name == "opentelemetry_instrumentation_llm.llama_index"
    assert is_ancestor(workflow, chat, spans)
    assert chat.attributes["gen_ai.usage.input_tokens"] > 0 and chat.attributes["gen_ai.usage.output_tokens"] > 0
    assert chat.attributes["gen_ai.response.model"] == "gpt-4o-2026-01-01"
    assert len(fake.exchanges) - before == 2  # one embeddings and one chat request: one span each
    # (everything_exported() also reads metrics, which two scopes record here: spans and logs suffice)
    assert SECRET_CITY not in repr([(s.name, dict(s.attributes), s.events) for s in spans] + telemetry.logs())


def test_agent_with_a_tool_is_one_trace(
    llm: SdkBackedLLM, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    def get_weather(city: str) -> str:
        """Current weather of a city."""
        return f"sunny in {city}"

    fake.push(
        Reply(text=f'Thought: I need the weather.\nAction: get_weather\nAction Input: {{"city": "{SECRET_CITY}"}}'),
        Reply(text=f"Thought: I can answer without using any more tools.\nAnswer: sunny in {SECRET_CITY}"),
    )
    agent = ReActAgent(name="weatherbot", tools=[FunctionTool.from_defaults(get_weather)], llm=llm)

    async def main() -> str:
        return str(await agent.run(f"weather in {SECRET_CITY}?"))

    assert asyncio.run(main()) == f"sunny in {SECRET_CITY}"
    spans = telemetry.spans()
    assert_one_trace(spans)
    (agent_span,) = by_operation(spans, "invoke_agent")
    assert agent_span.name == "invoke_agent weatherbot" and agent_span.parent is None
    (tool,) = by_operation(spans, "execute_tool")
    assert tool.name == "execute_tool get_weather"
    assert tool.attributes["gen_ai.agent.name"] == "weatherbot"
    assert tool.parent.span_id == agent_span.context.span_id
    chats = inference_spans(spans)
    assert len(chats) == len(fake.exchanges) == 2
    assert all(s.parent.span_id == agent_span.context.span_id for s in chats)
    assert SECRET_CITY not in everything_exported(telemetry)
    assert point_sum(telemetry.points("gen_ai.invoke_agent.inference_calls")) == 2
    assert point_sum(telemetry.points("gen_ai.invoke_agent.tool_calls")) == 1


def test_failing_tool_ends_its_span_with_error_type(
    llm: SdkBackedLLM, fake: FakeLLM, telemetry: Telemetry, instrumented: None
) -> None:
    def broken(city: str) -> str:
        """A tool that fails."""
        raise LookupError(city)

    tool = FunctionTool.from_defaults(broken)
    with pytest.raises(LookupError):
        tool.call(city="x")
    (span,) = telemetry.spans()
    assert span.attributes["error.type"] == "LookupError"


def test_local_embedding_model_gets_one_span_without_a_made_up_model(telemetry: Telemetry, instrumented: None) -> None:
    """An embedding model we do not instrument (LlamaIndex's ``model_name`` defaults to "unknown"):
    one ``embeddings`` span from the LlamaIndex side, named without a model."""
    from llama_index.core.embeddings import BaseEmbedding

    class Local(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(len(query)), 1.0]

        def _get_text_embedding(self, text: str) -> list[float]:
            return [float(len(text)), 1.0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    assert Local().get_text_embedding("hello") == [5.0, 1.0]
    (span,) = telemetry.spans()
    assert span.name == "embeddings"
    assert span.attributes["gen_ai.operation.name"] == "embeddings"
    assert "gen_ai.request.model" not in span.attributes


def test_content_capture(
    llm: SdkBackedLLM,
    embeddings: OpenAIEmbedding,
    fake: FakeLLM,
    telemetry: Telemetry,
    instrument_llama_index: Callable[..., Any],
) -> None:
    instrument_llama_index(capture_content=True)
    index = index_of(embeddings)
    index.as_retriever(similarity_top_k=2).retrieve(f"where is {SECRET_CITY}?")
    FunctionTool.from_defaults(lambda city: f"sunny in {city}", name="weather").call(city=SECRET_CITY)
    spans = {s.attributes["gen_ai.operation.name"]: s for s in telemetry.spans()}
    assert spans["retrieval"].attributes["gen_ai.retrieval.query.text"] == f"where is {SECRET_CITY}?"
    documents = json.loads(spans["retrieval"].attributes["gen_ai.retrieval.documents"])
    assert len(documents) == 2 and any(SECRET_CITY in document["content"] for document in documents)
    assert json.loads(spans["execute_tool"].attributes["gen_ai.tool.call.arguments"]) == {"city": SECRET_CITY}
    assert spans["execute_tool"].attributes["gen_ai.tool.call.result"] == f"sunny in {SECRET_CITY}"


def test_uninstrument_stops_recording(
    llm: SdkBackedLLM, fake: FakeLLM, telemetry: Telemetry, instrument_llama_index: Callable[..., Any]
) -> None:
    from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]

    instrumentor = instrument_llama_index()
    handlers = len(get_dispatcher().span_handlers)
    instrumentor.uninstrument()
    assert len(get_dispatcher().span_handlers) == handlers - 1
    llm.complete("hi")
    assert telemetry.spans() == []
