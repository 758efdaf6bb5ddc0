"""Time added per agent run (OpenAI Agents SDK: three model calls, two tool calls) and per MCP tool call.

Run:  python benchmarks/bench_agents.py [--quick] [--clock cpu] [--json out.json]
      (competitors: pip install openinference-instrumentation-openai-agents opentelemetry-instrumentation-mcp)

In one process, modes are switched on and off round by round (so drift hits all alike), each run
timed with the chosen clock (``--clock cpu``: process CPU time, which descheduling on a shared
machine does not inflate; the export thread's CPU time still counts):

* ``bare``: nothing instrumented (the Agents SDK with no trace processor; mcp with no tracer provider);
* ``ours``: ``OpenAIInstrumentor`` + ``OpenAIAgentsInstrumentor`` / ``MCPInstrumentor``;
* ``floor``: the bare OpenTelemetry SDK cost of what ours emits per run: the same spans (names,
  kinds, attributes, nesting) and the same number of histogram records, replayed in a loop;
* competitors, when installed: ``openinference-instrumentation-openai-agents`` (Agents SDK) and
  ``opentelemetry-instrumentation-mcp`` (OpenLLMetry's MCP instrumentation).

Spans go through a BatchSpanProcessor to a discarding exporter; metrics to an in-memory reader.
The model calls reach the fake provider through an in-process httpx2 transport, and the MCP client
talks to an in-process server, so the SDK paths run in full without socket noise. Each figure is
the minimum over rounds of the mean per run in a batch.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_overhead
from bench_overhead import Discard, time_batch, time_batch_async
from opentelemetry import propagate, trace
from opentelemetry.context import Context, create_key
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from opentelemetry_instrumentation_llm.testing import FakeLLM, Reply

clock = time.perf_counter


class Collect(SpanProcessor):
    """Every ended span, and the attribute keys each span had when it started."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []
        self.start_keys: dict[int, frozenset[str]] = {}

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.start_keys[span.context.span_id] = frozenset(span.attributes or ())

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)

    def split(self, span: ReadableSpan) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the attributes ``span`` had at its start, those set later)."""
        attrs = dict(span.attributes or {})
        at_start = self.start_keys.get(span.context.span_id, frozenset(attrs))
        return {k: v for k, v in attrs.items() if k in at_start}, {k: v for k, v in attrs.items() if k not in at_start}


class Pipeline:
    def __init__(self) -> None:
        self.collect = Collect()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(BatchSpanProcessor(Discard()))
        self.tracer_provider.add_span_processor(self.collect)
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    @property
    def providers(self) -> dict[str, Any]:
        return {"tracer_provider": self.tracer_provider, "meter_provider": self.meter_provider}

    def records(self) -> int:
        """Histogram records so far (sum of the points' counts)."""
        return sum(point[2] for point in self.points())

    def points(self) -> list[Point]:
        """Every histogram point so far, across instruments (exemplars: since the last reading)."""
        data = self.reader.get_metrics_data()
        return [
            (metric.name, dict(point.attributes or {}), point.count, bool(point.exemplars))
            for rm in (data.resource_metrics if data else ())
            for sm in rm.scope_metrics
            for metric in sm.metrics
            for point in metric.data.data_points
            if hasattr(point, "count")
        ]


Point = tuple[str, dict[str, Any], int, bool]
"""(metric name, attributes, records, whether they carried an exemplar) of one histogram point."""
Node = tuple[str, trace.SpanKind, dict[str, Any], dict[str, Any], list[Any]]
"""A span to replay: (name, kind, attributes at its start, attributes set later, children)."""
Floors = dict[str, Callable[[], None]]
FLOORS = ("floor", "floor-current")
# The contexts the floor's records pass: a sampled span's, for the records that gave ours an exemplar
# (the durations, which carry their span's context), and one without a span for the others.
_SAMPLED = trace.set_span_in_context(
    trace.NonRecordingSpan(trace.SpanContext(1, 1, False, trace.TraceFlags(trace.TraceFlags.SAMPLED)))
)
_NO_EXEMPLAR = Context({create_key("floor.no-exemplar"): True})


def floor_for(pipeline: Pipeline, spans: list[ReadableSpan], records: list[Point]) -> Floors:
    """The bare SDK replaying ``spans`` (names, kinds, nesting, attributes: those ours had at the start
    given at the start, the others set before the end) and ``records`` (histogram records with the same
    attributes as ours, and an exemplar where ours had one), two ways:

    * ``floor``: each span started with its parent context passed explicitly, never made current;
    * ``floor-current``: each span made current around its children with ``start_as_current_span``,
      the SDK's own idiom, as an instrumentation must when the code in between is not its own
      (the model call inside an agent run, the tool inside a request) so that it nests.

    A SERVER span whose parent is a CLIENT span of the set gets its parent through a W3C carrier,
    injected and extracted as any cross-process propagation must."""
    tracer = pipeline.tracer_provider.get_tracer("floor")
    histogram = pipeline.meter_provider.get_meter("floor").create_histogram("floor.duration", unit="s")
    by_id = {s.context.span_id: s for s in spans}
    children: dict[int | None, list[ReadableSpan]] = {}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in by_id else None
        children.setdefault(parent, []).append(span)

    # Everything read off the recorded spans is read here, once: the loops below spend only what the SDK does.
    def node(span: ReadableSpan) -> Node:
        return (span.name, span.kind, *pipeline.collect.split(span), tree(span.context.span_id))

    def tree(parent_id: int | None) -> list[Node]:
        return [node(s) for s in children.get(parent_id, ())]

    roots = tree(None)
    flat = [(attrs, _SAMPLED if ex else _NO_EXEMPLAR) for _, attrs, count, ex in records for _ in range(count)]

    def parent_of(kind: trace.SpanKind, nested: bool, ctx: Any) -> Any:
        if kind is not trace.SpanKind.SERVER or not nested:
            return ctx
        carrier: dict[str, str] = {}
        propagate.inject(carrier, ctx)
        return propagate.extract(carrier)

    def replay(nodes: list[Node], ctx: Any) -> None:
        for name, kind, attrs, later, kids in nodes:
            parent = parent_of(kind, ctx is not None, ctx)
            started = tracer.start_span(name, parent, kind, attrs)
            replay(kids, trace.set_span_in_context(started, parent))
            if later:
                started.set_attributes(later)
            started.end()

    def replay_current(nodes: list[Node], nested: bool) -> None:
        for name, kind, attrs, later, kids in nodes:
            with tracer.start_as_current_span(name, parent_of(kind, nested, None), kind, attrs) as started:
                replay_current(kids, True)
                if later:
                    started.set_attributes(later)

    def record() -> None:
        for attrs, ctx in flat:
            histogram.record(0.5, attrs, ctx)

    def floor() -> None:
        replay(roots, None)
        record()

    def floor_current() -> None:
        replay_current(roots, False)
        record()

    return {"floor": floor, "floor-current": floor_current}


def new_records(before: list[Point], after: list[Point]) -> list[Point]:
    """The records made between two ``Pipeline.points()`` readings, by metric and attribute set."""
    seen = {(name, frozenset(attrs.items())): count for name, attrs, count, _ in before}
    made = [(n, a, c - seen.get((n, frozenset(a.items())), 0), e) for n, a, c, e in after]
    return [point for point in made if point[2] > 0]


# ------------------------------------------------------------------------------- Agents SDK


def agents_scenario(fake: FakeLLM) -> Callable[[], Awaitable[Any]]:
    import httpx2
    import openai
    from agents import Agent, OpenAIResponsesModel, Runner, function_tool

    @function_tool
    def lookup(city: str) -> str:
        """Weather of a city."""
        return f"sunny in {city}"

    @function_tool
    def convert(celsius: int) -> str:
        """Celsius to Fahrenheit."""
        return str(celsius * 9 // 5 + 32)

    client = openai.AsyncOpenAI(
        api_key="sk-bench",
        base_url="http://fake.local/v1",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=fake.transport(asynchronous=True)),
    )
    agent = Agent(
        name="assistant",
        instructions="Be brief.",
        tools=[lookup, convert],
        model=OpenAIResponsesModel(model="gpt-4o", openai_client=client),
    )

    async def run() -> Any:
        # Three model calls: two ask for a tool each, the third answers from the tool results.
        fake.push(
            Reply(tool_calls=[{"id": "call_1", "name": "lookup", "arguments": '{"city": "Paris"}'}]),
            Reply(tool_calls=[{"id": "call_2", "name": "convert", "arguments": '{"celsius": 21}'}]),
        )
        return await Runner.run(agent, "weather in Paris, in Fahrenheit?")

    return run


def agents_modes(pipeline: Pipeline) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    from agents.tracing import TracingProcessor, set_trace_processors

    from opentelemetry_instrumentation_llm.instrumentor import OpenAIInstrumentor
    from opentelemetry_instrumentation_llm.integrations import OpenAIAgentsInstrumentor

    def ours_on() -> None:
        OpenAIInstrumentor().instrument(**pipeline.providers)
        OpenAIAgentsInstrumentor().instrument(**pipeline.providers)

    def ours_off() -> None:
        OpenAIAgentsInstrumentor().uninstrument()
        OpenAIInstrumentor().uninstrument()
        set_trace_processors([])

    class Noop(TracingProcessor):
        def on_trace_start(self, trace: Any) -> None: ...
        def on_trace_end(self, trace: Any) -> None: ...
        def on_span_start(self, span: Any) -> None: ...
        def on_span_end(self, span: Any) -> None: ...
        def shutdown(self) -> None: ...
        def force_flush(self) -> None: ...

    # "sdk-tracing": a processor that does nothing, i.e. what the Agents SDK itself spends once any
    # processor is registered (every processor-based instrumentation pays it).
    modes = {
        "bare": (lambda: set_trace_processors([]), lambda: None),
        "sdk-tracing": (lambda: set_trace_processors([Noop()]), lambda: set_trace_processors([])),
        "ours": (ours_on, ours_off),
        # the openai instrumentation alone: its inference spans, without the agent layer
        "ours-openai-only": (
            lambda: OpenAIInstrumentor().instrument(**pipeline.providers),
            lambda: OpenAIInstrumentor().uninstrument(),
        ),
    }
    try:
        from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor as OpenInference

        def openinference_off() -> None:
            OpenInference().uninstrument()
            set_trace_processors([])

        modes["openinference"] = (
            lambda: OpenInference().instrument(tracer_provider=pipeline.tracer_provider, exclusive_processor=True),
            openinference_off,
        )
    except ImportError:
        print("openinference-instrumentation-openai-agents not installed: no comparison with it")
    return modes


# ------------------------------------------------------------------------------- MCP


def mcp_server() -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("calculator")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    return server


def mcp_modes(pipeline: Pipeline) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    import mcp.shared._otel as sdk_otel

    from opentelemetry_instrumentation_llm.integrations import MCPInstrumentor

    sdk_tracer = sdk_otel._tracer

    def sdk_own_on() -> None:  # the SDK's built-in tracing, pointed at the same pipeline
        sdk_otel._tracer = pipeline.tracer_provider.get_tracer("mcp-python-sdk")

    def sdk_own_off() -> None:
        sdk_otel._tracer = sdk_tracer

    modes = {
        "bare": (lambda: None, lambda: None),
        "mcp-sdk-own-tracing": (sdk_own_on, sdk_own_off),
        "ours": (lambda: MCPInstrumentor().instrument(**pipeline.providers), lambda: MCPInstrumentor().uninstrument()),
    }
    try:
        from opentelemetry.instrumentation.mcp import McpInstrumentor

        OpenLLMetry: Any = McpInstrumentor
    except ImportError:
        print("opentelemetry-instrumentation-mcp not installed: no comparison with it")
        return modes
    try:
        OpenLLMetry().instrument(tracer_provider=pipeline.tracer_provider)
    except Exception as exc:  # noqa: BLE001 - a competitor that cannot instrument this mcp version
        print(f"opentelemetry-instrumentation-mcp cannot instrument this mcp version ({type(exc).__name__}: {exc})")
        return modes
    OpenLLMetry().uninstrument()
    modes["openllmetry"] = (
        lambda: OpenLLMetry().instrument(tracer_provider=pipeline.tracer_provider),
        lambda: OpenLLMetry().uninstrument(),
    )
    return modes


async def mcp_call_batch(n: int) -> float:
    """Mean time of one tools/call over n calls on one in-process session (connect not timed)."""
    from mcp import Client

    async with Client(mcp_server(), mode="legacy") as client:  # JSON-RPC over memory streams, as on a wire
        await client.call_tool("add", {"a": 1, "b": 2})
        start = clock()
        for _ in range(n):
            await client.call_tool("add", {"a": 1, "b": 2})
        return (clock() - start) / n


# ------------------------------------------------------------------------------- driver


def measure(
    label: str,
    modes: dict[str, tuple[Callable[[], None], Callable[[], None]]],
    batch: Callable[[int], float],
    floor: Callable[[], Floors],
    rounds: int,
    n: int,
) -> dict[str, float]:
    for on, off in modes.values():  # warm every path once
        on()
        batch(max(2, n // 4))
        off()
    floors = floor()
    results: dict[str, list[float]] = {name: [] for name in [*modes, *floors]}
    for _ in range(rounds):
        for name, (on, off) in modes.items():
            on()
            gc.collect()
            results[name].append(batch(n))
            off()
        for name, floor_fn in floors.items():
            gc.collect()
            results[name].append(time_batch(floor_fn, n))
    best = {name: min(values) * 1e6 for name, values in results.items()}
    base = best["bare"]
    print(f"\n{label} (us per {'run' if 'agent' in label else 'call'}, min over {rounds} rounds of {n})")
    print(f"  bare {base:10.1f}")
    for name, value in best.items():
        if name == "bare" or name in floors:
            continue
        print(f"  {name:14s} {value:10.1f}  added {value - base:8.1f}")
    added = best["ours"] - base
    for name in floors:
        print(f"  {name:14s} {'':10s}  SDK cost of the same telemetry {best[name]:8.1f}")
        print(f"  ours added / {name} = {added / best[name]:.2f}" if best[name] > 0 else "")
    for name in modes:
        if name not in ("bare", "ours"):
            other = best[name] - base
            print(f"  ours added / {name} added = {added / other:.2f}" if other > 0 else f"  {name}: no cost seen")
    return best


@dataclass
class Suite:
    """One measured operation: its modes (on/off), a batch of k operations, and its floor."""

    label: str
    modes: dict[str, tuple[Callable[[], None], Callable[[], None]]]
    batch: Callable[[int], Any]
    floor: Callable[[], Floors]
    scale: int  # operations per batch relative to the agent run's
    flush: Callable[[], Any]  # export what is queued (a phase then pays for its own spans' export)


def agents_suite(loop: asyncio.AbstractEventLoop, fake: FakeLLM) -> Suite:
    pipeline = Pipeline()
    run_agent = agents_scenario(fake)
    modes = agents_modes(pipeline)

    def agents_floor() -> Floors:
        on, off = modes["ours"]
        on()
        pipeline.collect.spans.clear()
        before = pipeline.points()
        loop.run_until_complete(run_agent())
        records = new_records(before, pipeline.points())
        spans = list(pipeline.collect.spans)
        off()
        names = sorted({s.name for s in spans})
        print(f"agent run: {len(spans)} spans ({names}), {sum(p[2] for p in records)} histogram records")
        return floor_for(pipeline, spans, records)

    return Suite(
        "Agents SDK run, 3 model calls + 2 tool calls",
        modes,
        lambda k: time_batch_async(loop, run_agent, k),
        agents_floor,
        1,
        pipeline.tracer_provider.force_flush,
    )


def mcp_suite(loop: asyncio.AbstractEventLoop) -> Suite:
    pipeline = Pipeline()
    modes = mcp_modes(pipeline)

    def mcp_floor() -> Floors:
        on, off = modes["ours"]
        on()
        first = pipeline.points()
        loop.run_until_complete(mcp_call_batch(1))
        second = pipeline.points()
        pipeline.collect.spans.clear()
        loop.run_until_complete(mcp_call_batch(3))
        off()
        # Both batches connect once and make one untimed call: two more calls made the difference.
        one, three = new_records(first, second), new_records(second, pipeline.points())
        records = [(name, attrs, count // 2, ex) for name, attrs, count, ex in new_records(one, three)]
        spans = [s for s in pipeline.collect.spans if s.name == "tools/call add"][-2:]  # client + server
        shape = [(s.name, s.kind.name) for s in spans]
        print(f"MCP tool call: {shape}, {sum(p[2] for p in records)} histogram records")
        return floor_for(pipeline, spans, records)

    return Suite(
        "MCP tools/call (client + server, in process)",
        modes,
        lambda k: loop.run_until_complete(mcp_call_batch(k)),
        mcp_floor,
        3,
        pipeline.tracer_provider.force_flush,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    bench_overhead.clock = clock  # time_batch / time_batch_async read it there
    rounds, n = (3, 10) if args.quick else (7, 30)
    loop = asyncio.new_event_loop()
    figures: dict[str, Any] = {"clock": args.clock}
    for key, suite in (("agent_run", agents_suite(loop, FakeLLM())), ("mcp_tool_call", mcp_suite(loop))):
        figures[key] = measure(suite.label, suite.modes, suite.batch, suite.floor, rounds, n * suite.scale)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
