"""Soak: tens of thousands of streamed calls; does the instrumented process hold its memory?

Run:  python benchmarks/soak.py                 (20,000 calls per scenario, 320,000 in all, per run)
      python benchmarks/soak.py --quick         (50 per scenario; about 30 s)
      python benchmarks/soak.py --calls 5000

Sixteen scenarios: OpenAI and Anthropic, sync and async, each stream read to the end, broken off
early (then dropped), closed explicitly, or dropped unread for the garbage collector. A round
makes one call of each; a run makes ``--calls`` rounds. Each run is a fresh interpreter: first
uninstrumented (the baseline), then instrumented with exporters off (our code alone), then
through ``setup()`` with content capture on, the batch processors and OTLP/gRPC export to a real
collector (``rotel``, discarding what it receives).
The SDKs talk to the fake provider through its in-process transport, so the calls are fast and
the only difference between the runs is our instrumentation and export pipeline.

Per run: RSS after warm-up (start), half-way and at the end (after a full collection each time),
second-half growth per 1,000 calls, and for the instrumented run: spans started and ended
(every span must end exactly once), SDK warnings about spans ended twice, our objects still
alive at the end (invocations, stream proxies, accumulators), our internal caches, the export
queue, and the top tracemalloc allocation sites over an extra stretch of calls.
Goal: second-half growth at most 5 KiB per 1,000 calls above the uninstrumented baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
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


def worker(instrumented: bool, rounds: int, endpoint: str, trace_rounds: int) -> dict[str, Any]:
    counting, double_ends, telemetry = Counting(), DoubleEnds(), None
    if instrumented:
        from opentelemetry_instrumentation_llm import setup

        logging.getLogger("opentelemetry.sdk.trace").addHandler(double_ends)
        telemetry = setup("soak", endpoint=endpoint, gpu=False, set_global=False, capture_content=True)
        telemetry.tracer_provider.add_span_processor(counting)
    sync_calls, async_calls = scenarios()
    loop = asyncio.new_event_loop()
    per_round = len(sync_calls) + len(async_calls)
    warmup = max(20, rounds // 10)
    run_rounds(warmup, sync_calls, async_calls, loop)  # warm-up: caches, pools, interned strings
    settle = _settler(telemetry)
    start = settle()
    started = time.perf_counter()
    run_rounds(rounds // 2, sync_calls, async_calls, loop)
    middle = settle()
    run_rounds(rounds - rounds // 2, sync_calls, async_calls, loop)
    end = settle()
    elapsed = time.perf_counter() - started
    second_half_calls = (rounds - rounds // 2) * per_round
    result: dict[str, Any] = {
        "calls": rounds * per_round,
        "calls_with_warmup": (rounds + warmup) * per_round,
        "seconds": elapsed,
        "rss_start": start,
        "rss_middle": middle,
        "rss_end": end,
        "growth_per_1000": (end - middle) / second_half_calls * 1000,
    }
    if telemetry is not None:
        result.update(_telemetry_checks(telemetry, counting, double_ends))
    result["traced_growth_per_1000"], result["top_allocations"] = _top_allocations(
        trace_rounds, sync_calls, async_calls, loop, telemetry
    )
    result["traced_calls"] = trace_rounds * per_round
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    if telemetry is not None:
        telemetry.shutdown()
    return result


def _telemetry_checks(telemetry: Any, counting: Counting, double_ends: DoubleEnds) -> dict[str, Any]:
    from opentelemetry_instrumentation_llm._core import guard
    from opentelemetry_instrumentation_llm.providers import _common

    telemetry.force_flush()
    gc.collect()
    queue = span_export_queue(telemetry)
    return {
        "spans_started": counting.started,
        "spans_ended": counting.ended,
        "double_end_warnings": double_ends.count,
        "live_objects": our_live_objects(),
        "server_cache": len(_common._SERVER_CACHE),
        "failures_reported": sorted(map(list, guard._reported)),
        "export_queue": len(queue) if queue is not None else None,
    }


def _settler(telemetry: Any) -> Callable[[], int]:
    """RSS after emptying the export queues and a full collection: memory retained, not in flight."""

    def settle() -> int:
        if telemetry is not None:
            telemetry.force_flush()
        gc.collect()
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


# The instrumented run without exporters separates our code from the export path (gRPC, protobuf).
NO_EXPORT = {"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}
RUNS: dict[str, dict[str, str]] = {"uninstrumented": {}, "no exporters": NO_EXPORT, "instrumented": {}}


def report(runs: dict[str, dict[str, Any]]) -> bool:
    mib = 1024 * 1024
    print(
        f"\n{'run':<15}{'calls':>9}{'seconds':>9}{'RSS start':>11}{'middle':>9}{'end':>9}"
        f"{'2nd-half growth / 1,000 calls':>31}"
    )
    for name, r in runs.items():
        print(
            f"{name:<15}{r['calls']:>9}{r['seconds']:>9.1f}"
            f"{r['rss_start'] / mib:>9.1f}MB{r['rss_middle'] / mib:>7.1f}MB"
            f"{r['rss_end'] / mib:>7.1f}MB{r['growth_per_1000'] / 1024:>27.2f} KiB"
        )
    base, ours, bare = runs["uninstrumented"], runs["instrumented"], runs["no exporters"]
    extra = (ours["growth_per_1000"] - base["growth_per_1000"]) / 1024
    extra_bare = (bare["growth_per_1000"] - base["growth_per_1000"]) / 1024
    print(
        f"\nRSS growth attributable to instrumentation: {extra_bare:+.2f} KiB per 1,000 calls without exporters, "
        f"{extra:+.2f} with OTLP export (goal: at most 5)"
    )
    print(
        f"Calls (warm-up included) {ours['calls_with_warmup']}: spans started {ours['spans_started']}, "
        f"ended {ours['spans_ended']}; SDK 'ended span' warnings: {ours['double_end_warnings']}"
    )
    print(
        f"Our objects alive at the end: {ours['live_objects'] or 'none'}; server cache entries: "
        f"{ours['server_cache']}; internal failures reported: {ours['failures_reported'] or 'none'}; "
        f"export queue: {ours['export_queue']}"
    )
    traced = (ours["traced_growth_per_1000"] - base["traced_growth_per_1000"]) / 1024
    print(
        f"Python heap still held after a traced stretch of {ours['traced_calls']} calls: "
        f"{base['traced_growth_per_1000'] / 1024:+.2f} KiB per 1,000 calls uninstrumented, "
        f"{ours['traced_growth_per_1000'] / 1024:+.2f} instrumented ({traced:+.2f} attributable)"
    )
    for name, r in runs.items():
        print(f"\nTop allocation sites still held after the tracemalloc stretch ({name}):")
        for line in r["top_allocations"]:
            print(f"  {line}")
    return (
        extra <= 5
        and ours["spans_started"] == ours["spans_ended"] == ours["calls_with_warmup"]
        and not ours["double_end_warnings"]
        and not ours["live_objects"]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 calls per scenario")
    parser.add_argument("--calls", type=int, default=20_000, help="calls per scenario (rounds)")
    parser.add_argument("--worker", choices=["uninstrumented", "instrumented"], help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    rounds = 50 if args.quick else args.calls
    trace_rounds = max(10, rounds // 50)
    if args.worker:
        result = worker(args.worker == "instrumented", rounds, args.endpoint, trace_rounds)
        print(json.dumps(result))
        return 0
    collector = BlackholeCollector.start()
    endpoint = collector.grpc_endpoint
    runs: dict[str, dict[str, Any]] = {}
    try:
        for name, env in RUNS.items():
            done = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--calls",
                    str(rounds),
                    "--worker",
                    "uninstrumented" if name == "uninstrumented" else "instrumented",
                    "--endpoint",
                    endpoint,
                ],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, **env},
            )
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 2
            runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        collector.stop()
    print(
        f"Soak: {rounds} calls per scenario x 16 scenarios per run; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    return 0 if report(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
