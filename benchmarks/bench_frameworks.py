"""Time added per LangGraph agent run, per LangChain RAG query and per LlamaIndex RAG query.

Run:  python benchmarks/bench_frameworks.py [--quick] [--clock cpu] [--json out.json]
      (competitors: pip install openinference-instrumentation-langchain opentelemetry-instrumentation-langchain)

Scenarios (both sync, ChatOpenAI over the ``openai`` SDK answered in process by the fake provider
through an httpx2 transport, so the SDK paths run in full without socket noise):

* agent run: LangGraph's ``create_react_agent`` with two tools; three model calls (two ask for a
  tool each, the third answers), two tool calls;
* RAG query: ``retriever | prompt | ChatOpenAI | parser`` over an ``InMemoryVectorStore`` (local
  deterministic embeddings, so the retrieval costs no HTTP), one model call;
* LlamaIndex RAG query: a query engine over a ``VectorStoreIndex`` (the same local embeddings), its
  LLM a ``CustomLLM`` over the openai SDK (``llama-index-llms-openai`` needs openai<3), one model
  call; modes as above with ``LlamaIndexInstrumentor`` and the competitors' LlamaIndex packages
  (``openinference-instrumentation-llama-index``, ``opentelemetry-instrumentation-llamaindex``).

Modes, switched on and off round by round in one process (so drift hits all alike):

* ``bare``: nothing instrumented;
* ``ours``: ``OpenAIInstrumentor`` + ``LangChainInstrumentor`` (model calls are our openai spans);
* ``ours-langchain-only``: ``LangChainInstrumentor`` alone (model calls from the callbacks, as a
  framework-only instrumentation records them: the like-for-like comparison with the competitors);
* ``ours-openai-only``: the SDK instrumentation alone (what the framework layer adds on top of it);
* ``lc-callbacks``: a callback handler that does nothing, added the same way: what LangChain itself
  spends once any handler is attached to its runs (every callback-based instrumentation pays it);
* competitors, when installed: ``openinference-instrumentation-langchain`` and OpenLLMetry's
  ``opentelemetry-instrumentation-langchain``, each instrumenting the framework. OpenLLMetry's
  ``uninstrument()`` leaves its callback handler in place (0.62), so it runs in a child process
  that measures ``bare`` and ``ours`` interleaved first, then turns OpenLLMetry on for good and
  measures it the same way;
* ``floor``: the bare OpenTelemetry SDK replaying the spans and histogram records ours emits.

Spans go through a BatchSpanProcessor to a discarding exporter; metrics to an in-memory reader.
Each figure is the minimum over rounds of the mean per run in a batch (``--clock cpu``: process CPU
time, which a shared machine's descheduling does not inflate).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_agents
import bench_overhead
from bench_agents import Pipeline, floor_for, measure, new_records

from opentelemetry_instrumentation_llm.testing import FakeLLM, Reply

Modes = dict[str, tuple[Callable[[], None], Callable[[], None]]]

COMPETITORS = {
    "openinference": ("openinference.instrumentation.langchain", "LangChainInstrumentor"),
    "openllmetry": ("opentelemetry.instrumentation.langchain", "LangchainInstrumentor"),
}
STICKY = {"openllmetry"}  # competitors whose uninstrument() does not stop them


def chat_model(fake: FakeLLM) -> Any:
    import httpx2
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model="gpt-4o",
        api_key="sk-bench",  # type: ignore[arg-type]
        base_url="http://fake.local/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=fake.transport()),
    )


def agent_scenario(fake: FakeLLM) -> Callable[[], Callable[[], Any]]:
    """Builds a fresh agent under the instrumentation in force (the prebuilt factory is looked up
    then, and ChatOpenAI binds the SDK's raw-response method on first use)."""
    from langchain_core.tools import tool

    @tool
    def lookup(city: str) -> str:
        """Weather of a city."""
        return f"sunny in {city}"

    @tool
    def convert(celsius: int) -> str:
        """Celsius to Fahrenheit."""
        return str(celsius * 9 // 5 + 32)

    def build() -> Callable[[], Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # create_react_agent is deprecated for langchain's create_agent
            import langgraph.prebuilt

            agent = langgraph.prebuilt.create_react_agent(chat_model(fake), [lookup, convert], name="assistant")

        def run() -> Any:
            fake.push(
                Reply(tool_calls=[{"id": "call_1", "name": "lookup", "arguments": '{"city": "Paris"}'}]),
                Reply(tool_calls=[{"id": "call_2", "name": "convert", "arguments": '{"celsius": 21}'}]),
            )
            return agent.invoke({"messages": [("user", "weather in Paris, in Fahrenheit?")]})

        return run

    return build


class LetterEmbeddings:
    """Deterministic local embeddings (vowel counts): retrieval without HTTP."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return [float(text.lower().count(letter)) + 0.1 for letter in "aeiouy"]


def rag_scenario(fake: FakeLLM) -> Callable[[], Callable[[], Any]]:
    from langchain_core.documents import Document
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.vectorstores import InMemoryVectorStore

    documents = [Document(page_content=f"City {i} has {i % 7} museums and a river.") for i in range(50)]
    store = InMemoryVectorStore.from_documents(documents, LetterEmbeddings())  # type: ignore[arg-type]
    prompt = ChatPromptTemplate.from_messages([("user", "Context: {context}\nQuestion: {question}")])

    def build() -> Callable[[], Any]:
        chain = {
            "context": store.as_retriever(search_kwargs={"k": 3}),
            "question": lambda question: question,
        } | prompt | chat_model(fake) | StrOutputParser()  # fmt: skip
        return lambda: chain.invoke("which city has a river?")

    return build


def instrumentor_modes(pipeline: Pipeline, framework: Any, only: str, competitors: dict[str, tuple[str, str]]) -> Modes:
    """bare; ours (the openai instrumentation and ``framework``'s); each of the two alone (``only``
    names the framework's); each installed competitor."""
    from opentelemetry_instrumentation_llm.instrumentor import OpenAIInstrumentor

    def toggles(*classes: Any) -> tuple[Callable[[], None], Callable[[], None]]:
        def on() -> None:
            for cls in classes:
                cls().instrument(**pipeline.providers)

        def off() -> None:
            for cls in reversed(classes):
                cls().uninstrument()

        return on, off

    modes: Modes = {
        "bare": (lambda: None, lambda: None),
        "ours": toggles(OpenAIInstrumentor, framework),
        only: toggles(framework),
        "ours-openai-only": toggles(OpenAIInstrumentor),
    }
    for name, (module, attribute) in competitors.items():
        try:
            modes[name] = toggles(getattr(__import__(module, fromlist=[attribute]), attribute))
        except ImportError:
            print(f"{module} not installed: no comparison with it")
    return modes


def langchain_modes(pipeline: Pipeline) -> Modes:
    from opentelemetry_instrumentation_llm.integrations import LangChainInstrumentor

    modes = instrumentor_modes(pipeline, LangChainInstrumentor, "ours-langchain-only", COMPETITORS)
    modes["lc-callbacks"] = noop_handler_mode()
    return modes


def noop_handler_mode() -> tuple[Callable[[], None], Callable[[], None]]:
    from contextvars import ContextVar

    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.tracers import context as lc_context

    class Noop(BaseCallbackHandler):
        run_inline = True

    handler = Noop()  # one handler for every run, as ours (the variable's default, never set)
    hook: ContextVar[Any] = ContextVar("bench_noop_handler", default=handler)

    def on() -> None:
        lc_context.register_configure_hook(hook, True)

    def off() -> None:
        lc_context._configure_hooks[:] = [h for h in lc_context._configure_hooks if h[0] is not hook]

    return on, off


def scenario_floor(pipeline: Pipeline, modes: Modes, build: Callable[[], Callable[[], Any]], label: str) -> Any:
    on, off = modes["ours"]
    on()
    run = build()
    run()  # warmed under our instrumentation
    pipeline.collect.spans.clear()
    before = pipeline.points()
    run()
    records = new_records(before, pipeline.points())
    spans = list(pipeline.collect.spans)
    off()
    count = sum(point[2] for point in records)
    print(f"{label}: {len(spans)} spans ({sorted(s.name for s in spans)}), {count} histogram records")
    return floor_for(pipeline, spans, records)


def batch_of(build: Callable[[], Callable[[], Any]]) -> Callable[[int], float]:
    def batch(n: int) -> float:
        run = build()  # under the mode in force; not timed
        run()
        return bench_overhead.time_batch(run, n)

    return batch


def sticky(name: str, modes: Modes, batch: Callable[[int], float], best: dict[str, float], rounds: int, n: int) -> None:
    """Measure a competitor that cannot be turned off, after everything else in this process."""
    on, _off = modes[name]
    on()
    batch(max(2, n // 4))
    value = min(batch(n) for _ in range(rounds)) * 1e6
    best[name] = value
    added, ours = value - best["bare"], best["ours"] - best["bare"]
    print(f"  {name:14s} {value:10.1f}  added {added:8.1f}  (measured after the others: it stays on)")
    print(f"  ours added / {name} added = {ours / added:.2f}" if added > 0 else f"  {name}: no cost seen")


def run_scenarios(fake: FakeLLM, wanted: list[str], rounds: int, n: int) -> dict[str, Any]:
    pipeline = Pipeline()
    every = langchain_modes(pipeline)
    modes = {name: every[name] for name in wanted if name in every and name not in STICKY}
    late = [name for name in wanted if name in every and name in STICKY]
    scenarios = (
        ("agent_run", "LangGraph ReAct agent run, 3 model calls + 2 tool calls", agent_scenario(fake), n),
        ("rag_query", "LangChain RAG query (in-memory retriever, 1 model call)", rag_scenario(fake), n * 2),
    )
    figures: dict[str, Any] = {}
    for key, label, build, count in scenarios:
        figures[key] = measure(
            label, modes, batch_of(build), lambda b=build, k=key: scenario_floor(pipeline, modes, b, k), rounds, count
        )
    for name in late:  # one sticky competitor per process (see the module docstring)
        for key, label, build, count in scenarios:
            print(f"\n{label}, {name}")
            sticky(name, every, batch_of(build), figures[key], rounds, count)
    return figures


LLAMA_INDEX_COMPETITORS = {
    "openinference": ("openinference.instrumentation.llama_index", "LlamaIndexInstrumentor"),
    "openllmetry": ("opentelemetry.instrumentation.llamaindex", "LlamaIndexInstrumentor"),
}


def llama_index_scenario(fake: FakeLLM) -> Callable[[], Callable[[], Any]]:
    import httpx2
    import openai
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
    from llama_index.core.llms.callbacks import llm_completion_callback

    client = openai.OpenAI(api_key="sk-bench", base_url="http://fake.local/v1", max_retries=0,
                           http_client=httpx2.Client(transport=fake.transport()))  # fmt: skip
    letters = LetterEmbeddings()

    class Embeddings(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return letters.embed_query(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return letters.embed_query(text)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return letters.embed_query(query)

    class SdkLLM(CustomLLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(model_name="gpt-4o", is_chat_model=False)

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}])
            return CompletionResponse(text=reply.choices[0].message.content or "", raw=reply)

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError

    documents = [Document(text=f"City {i} has {i % 7} museums and a river.") for i in range(50)]
    index = VectorStoreIndex.from_documents(documents, embed_model=Embeddings())

    def build() -> Callable[[], Any]:
        engine = index.as_query_engine(llm=SdkLLM(), similarity_top_k=3)
        return lambda: engine.query("which city has a river?")

    return build


def llama_index_modes(pipeline: Pipeline) -> Modes:
    from opentelemetry_instrumentation_llm.integrations import LlamaIndexInstrumentor

    return instrumentor_modes(pipeline, LlamaIndexInstrumentor, "ours-llama-index-only", LLAMA_INDEX_COMPETITORS)


def run_llama_index(fake: FakeLLM, wanted: list[str], rounds: int, n: int) -> dict[str, Any]:
    pipeline = Pipeline()
    every = llama_index_modes(pipeline)
    modes = {name: every[name] for name in wanted if name in every and name not in STICKY}
    build = llama_index_scenario(fake)
    label = "LlamaIndex RAG query (in-memory index, 1 model call)"
    figures = measure(label, modes, batch_of(build), lambda: scenario_floor(pipeline, modes, build, "llama_index"),
                      rounds, n * 2)  # fmt: skip
    for name in [name for name in wanted if name in every and name in STICKY]:
        print(f"\n{label}, {name}")
        sticky(name, every, batch_of(build), figures, rounds, n * 2)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--modes", help=argparse.SUPPRESS)  # a child process's share of the modes
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    bench_agents.clock = bench_overhead.clock = clock  # the timers read it there
    rounds, n = (3, 10) if args.quick else (7, 30)
    fake = FakeLLM()
    if args.modes:
        wanted = ["bare", "ours", *args.modes.split(",")]
        figures = run_scenarios(fake, wanted, rounds, n)
        figures["llama_index_query"] = run_llama_index(fake, wanted, rounds, n)
    else:
        mine = ["bare", "ours", "ours-langchain-only", "ours-openai-only", "lc-callbacks"]
        mine += sorted(set(COMPETITORS) - STICKY)
        figures = {"clock": args.clock, **run_scenarios(fake, mine, rounds, n)}
        figures["llama_index_query"] = run_llama_index(fake, [*mine, "ours-llama-index-only"], rounds, n)
        for name in sorted(STICKY):
            child = [sys.executable, __file__, "--clock", args.clock, "--modes", name, *(["--quick"] * args.quick)]
            if args.json:
                child += ["--json", f"{args.json}.{name}"]
            print(f"\n---- {name}, in a child process (bare and ours measured again there)")
            sys.stdout.flush()
            subprocess.run(child, check=False)
            if args.json and Path(f"{args.json}.{name}").exists():
                figures[name] = json.loads(Path(f"{args.json}.{name}").read_text())
                Path(f"{args.json}.{name}").unlink()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
