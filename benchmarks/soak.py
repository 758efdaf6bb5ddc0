"""Soak: tens of thousands of streamed calls; does the instrumented process hold its memory?

Run:  python benchmarks/soak.py                 (20,000 calls per scenario, 320,000 in all, per run)
      python benchmarks/soak.py --quick         (50 per scenario; about 30 s)
      python benchmarks/soak.py --calls 5000 --protocol http/protobuf --only uninstrumented --only instrumented
      python benchmarks/soak.py --calls 5000 --only bare-sdk --trim      (diagnostics, see below)

Sixteen scenarios: OpenAI and Anthropic, sync and async, each stream read to the end, broken off
early (then dropped), closed explicitly, or dropped unread for the garbage collector. A round
makes one call of each; a run makes ``--calls`` rounds. Each run is a fresh interpreter: first
uninstrumented (the baseline), then instrumented with exporters off (our code alone), then
through ``setup()`` with content capture on, the batch processors and OTLP export (``--protocol``,
gRPC by default) to a real collector (``rotel``, discarding what it receives). ``--only bare-sdk``
adds a comparison: the OpenTelemetry SDK alone, configured by hand with the same OTLP exporters,
recording a span like ours and the same histograms around each uninstrumented call (what the
export path costs without our code).
The SDKs talk to the fake provider through its in-process transport, so the calls are fast and
the only difference between the runs is our instrumentation and export pipeline.

Per run: RSS after warm-up and at ``--points`` evenly spaced readings after it (after a full
collection each time; ``--trim`` also has glibc hand back its free pages first, a diagnostic that
tells memory in use from memory the allocator keeps), second-half growth per 1,000 calls (end minus
middle, and the least-squares slope through the second half's readings, which the goal is
judged on), and for the instrumented run: spans started and ended (every span must end exactly once), SDK warnings
about spans ended twice, our objects still alive at the end (invocations, stream proxies,
accumulators), our internal caches, the export queue, and the top tracemalloc allocation sites
over an extra stretch of calls.
Goal: second-half growth at most 5 KiB per 1,000 calls above the uninstrumented baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _collector import BlackholeCollector, span_export_queue
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind

ENDINGS = ("exhaust", "break", "close", "drop")
MESSAGES = [{"role": "user", "content": "Tell me a short story about a lighthouse keeper and the sea"}]
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class Counting(SpanProcessor):
    def __init__(self) -> None:
        self.started = 0
        self.ended = 0

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.started += 1

    def on_end(self, span: ReadableSpan) -> None:
        self.ended += 1


class DoubleEnds(logging.Handler):
    """Counts the SDK's "Calling end() on an ended span" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "ended span" in record.getMessage():
            self.count += 1


# --------------------------------------------------------------------------- scenarios


def _consume(stream: Any, ending: str) -> Any:
    if ending == "exhaust":
        for _ in stream:
            pass
    elif ending == "break":
        for _ in stream:
            break
    elif ending == "close":
        next(iter(stream))
        stream.close()
    return None  # "drop": never read; the last reference goes with this frame


async def _aconsume(stream: Any, ending: str) -> Any:
    if ending == "exhaust":
        async for _ in stream:
            pass
    elif ending == "break":
        async for _ in stream:
            break
    elif ending == "close":
        await stream.__anext__()
        await stream.close()
    return None


def scenarios() -> tuple[list[Callable[[], None]], list[Callable[[], Awaitable[None]]]]:
    import anthropic
    import httpx2
    import openai

    from opentelemetry_instrumentation_llm.testing import FakeLLM

    fake = FakeLLM()
    fake.exchanges = _Discard()
    sync_openai = openai.OpenAI(
        api_key="sk-soak",
        base_url="http://fake.local/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=fake.transport()),
    )
    async_openai = openai.AsyncOpenAI(
        api_key="sk-soak",
        base_url="http://fake.local/v1",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=fake.transport(asynchronous=True)),
    )
    sync_anthropic = anthropic.Anthropic(
        api_key="sk-soak",
        base_url="http://fake.local",
        max_retries=0,
        http_client=httpx2.Client(transport=fake.transport()),
    )
    async_anthropic = anthropic.AsyncAnthropic(
        api_key="sk-soak",
        base_url="http://fake.local",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=fake.transport(asynchronous=True)),
    )
    openai_args: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    anthropic_args: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 128,
        "messages": MESSAGES,
        "stream": True,
    }

    sync_calls: list[Callable[[], None]] = []
    async_calls: list[Callable[[], Awaitable[None]]] = []
    for ending in ENDINGS:

        def openai_sync(e: str = ending) -> None:
            _consume(sync_openai.chat.completions.create(**openai_args), e)

        def anthropic_sync(e: str = ending) -> None:
            _consume(sync_anthropic.messages.create(**anthropic_args), e)

        sync_calls += [openai_sync, anthropic_sync]

        async def openai_call(e: str = ending) -> None:
            await _aconsume(await async_openai.chat.completions.create(**openai_args), e)

        async def anthropic_call(e: str = ending) -> None:
            await _aconsume(await async_anthropic.messages.create(**anthropic_args), e)

        async_calls += [openai_call, anthropic_call]
    return sync_calls, async_calls


class _Discard(list[Any]):
    """The fake's request log, kept empty (the soak measures our memory, not the fake's)."""

    def append(self, item: Any) -> None:
        pass


def run_rounds(
    rounds: int,
    sync_calls: list[Callable[[], None]],
    async_calls: list[Callable[[], Awaitable[None]]],
    loop: asyncio.AbstractEventLoop,
) -> None:
    """``rounds`` rounds inside the event loop (so async generators broken off are finalised by it)."""

    async def run() -> None:
        for _ in range(rounds):
            for call in sync_calls:
                call()
            for acall in async_calls:
                await acall()
            await asyncio.sleep(0)  # let the loop run the finalisers of abandoned async generators
        for _ in range(3):
            await asyncio.sleep(0)

    loop.run_until_complete(run())


# --------------------------------------------------------------------------- the bare SDK, for comparison

_INPUT = json.dumps([{"role": "user", "parts": [{"type": "text", "content": MESSAGES[0]["content"]}]}])
_OUTPUT = json.dumps(
    [{"role": "assistant", "parts": [{"type": "text", "content": "echo: " + MESSAGES[0]["content"]}],
      "finish_reason": "stop"}]
)  # fmt: skip
# What our spans carry for these calls (content capture on), so the bare SDK exports comparable spans.
SPAN_ATTRIBUTES: list[dict[str, Any]] = [
    {"gen_ai.operation.name": "chat", "gen_ai.provider.name": provider, "gen_ai.request.model": model,
     "server.address": "fake.local", "server.port": 80, "gen_ai.request.stream": True,
     "gen_ai.input.messages": _INPUT, "gen_ai.response.id": response_id,
     "gen_ai.response.model": f"{model}-2026-01-01", "gen_ai.response.finish_reasons": ("stop",),
     "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 13, "gen_ai.output.messages": _OUTPUT,
     "gen_ai.response.time_to_first_chunk": 0.01}
    for provider, model, response_id in (
        ("openai", "gpt-4o-mini", "chatcmpl-fake0001"), ("anthropic", "claude-sonnet-4-5", "msg_fake0001")
    )
]  # fmt: skip


class BareSdk:
    """The OpenTelemetry SDK alone, configured by hand (none of our code): a batch span processor
    and a periodic metric reader with the OTLP exporters of ``protocol``. Around each uninstrumented
    call it records one span like ours and the same two histograms: what the export path costs
    without our instrumentation."""

    def __init__(self, endpoint: str, protocol: str) -> None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            spans, metrics = OTLPSpanExporter(endpoint=endpoint), OTLPMetricExporter(endpoint=endpoint)
        else:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            spans = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")
            metrics = OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics")
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(BatchSpanProcessor(spans))
        self.meter_provider = MeterProvider(metric_readers=[PeriodicExportingMetricReader(metrics)])
        self.tracer = self.tracer_provider.get_tracer("soak.bare")
        meter = self.meter_provider.get_meter("soak.bare")
        self.duration = meter.create_histogram("gen_ai.client.operation.duration", unit="s")
        self.tokens = meter.create_histogram("gen_ai.client.token.usage", unit="{token}")

    def traced(
        self, sync_calls: list[Callable[[], None]], async_calls: list[Callable[[], Awaitable[None]]]
    ) -> tuple[list[Callable[[], None]], list[Callable[[], Awaitable[None]]]]:
        """The calls, each inside a span (scenarios alternate OpenAI and Anthropic)."""

        def sync(call: Callable[[], None], attributes: dict[str, Any]) -> Callable[[], None]:
            return lambda: self._record(attributes, time.perf_counter(), call())

        def asynchronous(
            call: Callable[[], Awaitable[None]], attributes: dict[str, Any]
        ) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                self._record(attributes, time.perf_counter(), await call())

            return run

        return (
            [sync(call, SPAN_ATTRIBUTES[i % 2]) for i, call in enumerate(sync_calls)],
            [asynchronous(call, SPAN_ATTRIBUTES[i % 2]) for i, call in enumerate(async_calls)],
        )

    def _record(self, attributes: dict[str, Any], started: float, _: None) -> None:
        name = f"chat {attributes['gen_ai.request.model']}"
        self.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes).end()
        metric_attributes = {k: attributes[k] for k in list(attributes)[:5]}
        self.duration.record(time.perf_counter() - started, metric_attributes)
        self.tokens.record(12, {**metric_attributes, "gen_ai.token.type": "input"})
        self.tokens.record(13, {**metric_attributes, "gen_ai.token.type": "output"})

    def force_flush(self) -> bool:
        return bool(self.tracer_provider.force_flush() and self.meter_provider.force_flush())

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


# --------------------------------------------------------------------------- one run (a fresh interpreter)


def our_live_objects() -> dict[str, int]:
    """Per-call objects of ours still alive (after a full collection): invocations, proxies, accumulators."""
    ours = {
        cls
        for name, module in list(sys.modules.items())
        if name.startswith("opentelemetry_instrumentation_llm.")
        for cls in vars(module).values()
        if isinstance(cls, type) and cls.__name__.endswith(("Invocation", "Proxy", "Accumulator", "_Observer"))
    }
    counts: dict[str, int] = {}
    for obj in gc.get_objects():
        cls = type(obj)
        if cls in ours:
            counts[cls.__name__] = counts.get(cls.__name__, 0) + 1
    return counts


def worker(mode: str, rounds: int, options: argparse.Namespace) -> dict[str, Any]:
    counting, double_ends, telemetry = Counting(), DoubleEnds(), None
    sync_calls, async_calls = scenarios()
    if mode == "instrumented":
        from opentelemetry_instrumentation_llm import setup

        logging.getLogger("opentelemetry.sdk.trace").addHandler(double_ends)
        telemetry = setup(
            "soak", endpoint=options.endpoint, protocol=options.protocol, gpu=False, set_global=False,
            capture_content=True,
        )  # fmt: skip
        telemetry.tracer_provider.add_span_processor(counting)
    elif mode == "bare":
        telemetry = BareSdk(options.endpoint, options.protocol)
        telemetry.tracer_provider.add_span_processor(counting)
        sync_calls, async_calls = telemetry.traced(sync_calls, async_calls)
    loop = asyncio.new_event_loop()
    per_round = len(sync_calls) + len(async_calls)
    warmup = max(20, rounds // 10)
    run_rounds(warmup, sync_calls, async_calls, loop)  # warm-up: caches, pools, interned strings
    settle = _settler(telemetry, options.trim)
    started = time.perf_counter()
    trace = [settle()]
    for point in range(1, options.points + 1):
        run_rounds(
            rounds * point // options.points - rounds * (point - 1) // options.points, sync_calls, async_calls, loop
        )
        trace.append(settle())
    elapsed = time.perf_counter() - started
    middle, end = trace[options.points // 2], trace[-1]
    result: dict[str, Any] = {
        "calls": rounds * per_round,
        "calls_with_warmup": (rounds + warmup) * per_round,
        "seconds": elapsed,
        "rss_trace": trace,
        "growth_per_1000": (end - middle) / ((rounds - rounds // 2) * per_round) * 1000,
        "fitted_per_1000": fitted_growth(trace[options.points // 2 :], rounds * per_round / options.points),
    }
    if telemetry is not None:
        result.update(_span_checks(counting, double_ends, telemetry))
    if mode == "instrumented":
        result.update(_telemetry_checks(telemetry))
    result["traced_growth_per_1000"], result["top_allocations"] = _top_allocations(
        options.trace_rounds, sync_calls, async_calls, loop, telemetry
    )
    result["traced_calls"] = options.trace_rounds * per_round
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    if telemetry is not None:
        telemetry.shutdown()
    return result


def fitted_growth(readings: list[int], calls_between: float) -> float:
    """Bytes per 1,000 calls: the least-squares slope through ``readings`` (taken every
    ``calls_between`` calls). The allocator moves RSS up and down by a few MB between readings,
    so two readings alone (end minus middle) can show tens of KiB per 1,000 calls of growth or
    shrinkage that is not there; a slope through all of them follows what keeps growing."""
    slope, _ = statistics.linear_regression(range(len(readings)), readings)
    return slope / calls_between * 1000


def _span_checks(counting: Counting, double_ends: DoubleEnds, telemetry: Any) -> dict[str, Any]:
    telemetry.force_flush()
    return {
        "spans_started": counting.started,
        "spans_ended": counting.ended,
        "double_end_warnings": double_ends.count,
    }


def _telemetry_checks(telemetry: Any) -> dict[str, Any]:
    from opentelemetry_instrumentation_llm._core import guard
    from opentelemetry_instrumentation_llm.providers import _common

    gc.collect()
    queue = span_export_queue(telemetry)
    return {
        "live_objects": our_live_objects(),
        "server_cache": len(_common._SERVER_CACHE),
        "failures_reported": sorted(map(list, guard._reported)),
        "export_queue": len(queue) if queue is not None else None,
    }


def malloc_trim() -> None:
    """Diagnostic only (``--trim``): glibc hands its free pages back to the system, so what RSS
    still shows afterwards is memory in use, not memory the allocator keeps for reuse."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def _settler(telemetry: Any, trim: bool = False) -> Callable[[], int]:
    """RSS after emptying the export queues and a full collection: memory retained, not in flight."""

    def settle() -> int:
        if telemetry is not None:
            telemetry.force_flush()
        gc.collect()
        if trim:
            malloc_trim()
        return rss()

    return settle


def _top_allocations(
    rounds: int,
    sync_calls: list[Callable[[], None]],
    async_calls: list[Callable[[], Awaitable[None]]],
    loop: asyncio.AbstractEventLoop,
    telemetry: Any,
) -> tuple[float, list[str]]:
    """Bytes per 1,000 calls still allocated after ``rounds`` more rounds (net of frees, export
    queues emptied), and the top five sites where they were allocated."""
    settle = _settler(telemetry)
    tracemalloc.start(1)
    settle()
    before = tracemalloc.take_snapshot()
    run_rounds(rounds, sync_calls, async_calls, loop)
    settle()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    ]
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    calls = rounds * (len(sync_calls) + len(async_calls))
    growth = sum(s.size_diff for s in stats) / calls * 1000
    return growth, [f"{s.size_diff / 1024:+.1f} KiB in {s.count_diff:+d} blocks: {s.traceback[0]}" for s in stats[:5]]


# --------------------------------------------------------------------------- the orchestrator


# The instrumented run without exporters separates our code from the export path (gRPC, protobuf);
# the bare SDK run separates the export path's own cost (upstream) from our instrumentation's.
NO_EXPORT = {"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}
RUNS: dict[str, tuple[str, dict[str, str]]] = {
    "uninstrumented": ("uninstrumented", {}),
    "no-exporters": ("instrumented", NO_EXPORT),
    "instrumented": ("instrumented", {}),
    "bare-sdk": ("bare", {}),
}
DEFAULT_RUNS = ("uninstrumented", "no-exporters", "instrumented")
LABELS = {
    "uninstrumented": "uninstrumented",
    "no-exporters": "instrumented, exporters off",
    "instrumented": "setup(), OTLP export",
    "bare-sdk": "bare SDK, OTLP export",
}
MIB = 1024 * 1024


def report(runs: dict[str, dict[str, Any]], options: argparse.Namespace) -> bool:
    print(
        f"\n{'run':<30}{'calls':>9}{'seconds':>9}{'RSS start':>11}{'middle':>9}{'end':>9}"
        f"{'2nd half, KiB per 1,000 calls: end-middle':>44}{'fitted':>9}"
    )
    for name, r in runs.items():
        start, middle, end = (r["rss_trace"][i] / MIB for i in (0, options.points // 2, -1))
        print(
            f"{LABELS[name]:<30}{r['calls']:>9}{r['seconds']:>9.1f}{start:>9.1f}MB{middle:>7.1f}MB{end:>7.1f}MB"
            f"{r['growth_per_1000'] / 1024:>44.2f}{r['fitted_per_1000'] / 1024:>9.2f}"
        )
    for name, r in runs.items():
        every = r["calls"] // options.points
        print(f"RSS every {every:,} calls, {LABELS[name]} (MB): " + " ".join(f"{b / MIB:.1f}" for b in r["rss_trace"]))
    base = runs.get("uninstrumented")
    if base is not None:
        _attributable(runs, base)
    ours = runs.get("instrumented") or runs.get("no-exporters")
    if ours is not None:
        _instrumented_checks(ours, base)
    for name, r in runs.items():
        print(f"\nTop allocation sites still held after the tracemalloc stretch ({LABELS[name]}):")
        for line in r["top_allocations"]:
            print(f"  {line}")
    return _goal_met(runs)


def _attributable(runs: dict[str, dict[str, Any]], base: dict[str, Any]) -> None:
    start = base["rss_trace"][0]
    for name, r in runs.items():
        if name == "uninstrumented":
            continue
        extra = (r["fitted_per_1000"] - base["fitted_per_1000"]) / 1024
        ends = (r["growth_per_1000"] - base["growth_per_1000"]) / 1024
        print(
            f"{LABELS[name]}: {extra:+.2f} KiB per 1,000 calls above the uninstrumented baseline, fitted "
            f"(goal: at most 5; end minus middle: {ends:+.2f}); "
            f"RSS after warm-up {(r['rss_trace'][0] - start) / MIB:+.1f} MB above it"
        )


def _instrumented_checks(ours: dict[str, Any], base: dict[str, Any] | None) -> None:
    print(
        f"Calls (warm-up included) {ours['calls_with_warmup']}: spans started {ours['spans_started']}, "
        f"ended {ours['spans_ended']}; SDK 'ended span' warnings: {ours['double_end_warnings']}"
    )
    print(
        f"Our objects alive at the end: {ours['live_objects'] or 'none'}; server cache entries: "
        f"{ours['server_cache']}; internal failures reported: {ours['failures_reported'] or 'none'}; "
        f"export queue: {ours['export_queue']}"
    )
    if base is not None:
        traced = (ours["traced_growth_per_1000"] - base["traced_growth_per_1000"]) / 1024
        print(
            f"Python heap still held after a traced stretch of {ours['traced_calls']} calls: "
            f"{base['traced_growth_per_1000'] / 1024:+.2f} KiB per 1,000 calls uninstrumented, "
            f"{ours['traced_growth_per_1000'] / 1024:+.2f} instrumented ({traced:+.2f} attributable)"
        )


def _goal_met(runs: dict[str, dict[str, Any]]) -> bool:
    base = runs.get("uninstrumented")
    ok = True
    for name in ("no-exporters", "instrumented"):
        r = runs.get(name)
        if r is None:
            continue
        ok = ok and r["spans_started"] == r["spans_ended"] == r["calls_with_warmup"]
        ok = ok and not r["double_end_warnings"] and not r["live_objects"]
        if base is not None:
            ok = ok and (r["fitted_per_1000"] - base["fitted_per_1000"]) / 1024 <= 5
    return ok


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 calls per scenario")
    parser.add_argument("--calls", type=int, default=20_000, help="calls per scenario (rounds)")
    parser.add_argument("--protocol", choices=["grpc", "http/protobuf"], default="grpc", help="OTLP protocol")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(RUNS),
        help=f"run only these (repeatable; default {' '.join(DEFAULT_RUNS)})",
    )
    parser.add_argument("--points", type=int, default=10, help="RSS readings after warm-up (even; default 10)")
    parser.add_argument(
        "--trim", action="store_true", help="diagnostic: malloc_trim(0) before each RSS reading (allocator retention)"
    )
    parser.add_argument("--worker", choices=["uninstrumented", "instrumented", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.points < 2 or options.points % 2:
        parser.error("--points must be even and at least 2")
    options.rounds = 50 if options.quick else options.calls
    options.trace_rounds = max(10, options.rounds // 50)
    return options


def run_worker(name: str, options: argparse.Namespace, endpoint: str) -> dict[str, Any] | None:
    mode, env = RUNS[name]
    command = [sys.executable, str(Path(__file__).resolve()), "--calls", str(options.rounds), "--worker", mode]
    command += ["--endpoint", endpoint, "--protocol", options.protocol, "--points", str(options.points)]
    command += ["--trim"] if options.trim else []
    done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, **env})
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return None
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    options = arguments()
    if options.worker:
        print(json.dumps(worker(options.worker, options.rounds, options)))
        return 0
    collector = BlackholeCollector.start()
    endpoint = collector.grpc_endpoint if options.protocol == "grpc" else collector.http_endpoint
    runs: dict[str, dict[str, Any]] = {}
    try:
        for name in options.only or DEFAULT_RUNS:
            result = run_worker(name, options, endpoint)
            if result is None:
                return 2
            runs[name] = result
    finally:
        collector.stop()
    arena = os.environ.get("MALLOC_ARENA_MAX")
    print(
        f"Soak: {options.rounds} calls per scenario x 16 scenarios per run; OTLP {options.protocol}; "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
        + (f"; MALLOC_ARENA_MAX={arena}" if arena else "")
        + ("; malloc_trim(0) before each RSS reading" if options.trim else "")
    )
    return 0 if report(runs, options) else 1


if __name__ == "__main__":
    sys.exit(main())
