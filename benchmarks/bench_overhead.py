"""Overhead of the instrumentation per LLM call and per streamed chunk.

Run:  python benchmarks/bench_overhead.py            (all scenarios, ~1-2 minutes)
      python benchmarks/bench_overhead.py --quick    (fewer rounds)

In one process, with the SDK's BatchSpanProcessor / BatchLogRecordProcessor and discarding
exporters, each scenario is timed three ways, interleaved round by round so drift hits all alike:

* baseline: the SDK's original, unwrapped method (taken from the wrapper's ``__wrapped__``);
* instrumented: the same call through our wrapper;
* floor: the bare OpenTelemetry SDK cost of the telemetry we emit for that call, i.e. one span
  with the very attributes our span carried, plus the same metric records (the duration record
  with the span's context, as ours carries it for its exemplar; the cost counter when the call was
  priced).
  It is measured twice: "tight" (the SDK operations alone in a loop, caches hot) and "in situ"
  (the same operations run right after each baseline call, so caches are as cold as they are for
  the instrumentation; floor = (baseline + ops) - baseline). In situ is the fair comparison: an
  instrumentation can only ever be compared with what the SDK costs in the same conditions.

Each figure is the minimum over rounds of the mean per call in a batch: interference from other
processes only ever adds time, so the minimum is the most repeatable estimate on a shared machine.

The SDK clients talk to the fake provider through an in-process httpx2 transport, so the whole
SDK request/response path runs but socket noise does not drown microsecond differences
(``--transport http`` uses the loopback server instead). Per-chunk cost is isolated by timing
streams of 64 and of 8 chunks: (added64 - added8) / 56.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind

from opentelemetry_instrumentation_llm import semconv as sc
from opentelemetry_instrumentation_llm.testing import FakeLLM, FakeLLMServer, Reply


class Discard(SpanExporter, LogRecordExporter):
    def export(self, batch: Any) -> Any:
        if batch and isinstance(batch[0], ReadableSpan):
            return SpanExportResult.SUCCESS
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class LastSpan(SpanProcessor):
    """Keeps the last finished span, to build the floor from exactly what we emitted."""

    def __init__(self) -> None:
        self.span: ReadableSpan | None = None

    def on_end(self, span: ReadableSpan) -> None:
        self.span = span


@dataclass
class Pipeline:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    last: LastSpan

    @classmethod
    def create(cls) -> Pipeline:
        last = LastSpan()
        tp = TracerProvider()
        tp.add_span_processor(BatchSpanProcessor(Discard()))
        tp.add_span_processor(last)
        mp = MeterProvider(metric_readers=[InMemoryMetricReader()])
        lp = LoggerProvider()
        lp.add_log_record_processor(BatchLogRecordProcessor(Discard()))
        return cls(tp, mp, lp, last)

    @property
    def providers(self) -> dict[str, Any]:
        return {
            "tracer_provider": self.tracer_provider,
            "meter_provider": self.meter_provider,
            "logger_provider": self.logger_provider,
        }


# --clock cpu reads the process's CPU time instead of the wall clock: on a machine shared with other
# work, time spent descheduled then does not count (the export threads' CPU time still does).
clock = time.perf_counter


def time_batch(fn: Callable[[], Any], n: int) -> float:
    """Mean seconds per call over n calls."""
    start = clock()
    for _ in range(n):
        fn()
    return (clock() - start) / n


def time_batch_async(loop: asyncio.AbstractEventLoop, fn: Callable[[], Awaitable[Any]], n: int) -> float:
    async def run() -> float:
        start = clock()
        for _ in range(n):
            await fn()
        return (clock() - start) / n

    return loop.run_until_complete(run())


@dataclass
class Scenario:
    label: str
    chunks: int  # 0 for non-streaming
    baseline: Callable[[], Any]
    instrumented: Callable[[], Any]
    is_async: bool = False


@dataclass
class Result:
    label: str
    chunks: int
    baseline_us: float
    instrumented_us: float
    floor_tight_us: float
    baseline_plus_floor_us: float

    @property
    def added_us(self) -> float:
        return self.instrumented_us - self.baseline_us

    @property
    def floor_us(self) -> float:
        """The SDK's own cost for the same telemetry, in situ."""
        return max(self.baseline_plus_floor_us - self.baseline_us, self.floor_tight_us)


def measure(
    scenarios: Sequence[Scenario],
    floor_for: Callable[[Scenario], Callable[[], Any]],
    loop: asyncio.AbstractEventLoop,
    rounds: int,
    batch: int,
) -> list[Result]:
    results = []
    for scenario in scenarios:
        run = (lambda f, n: time_batch_async(loop, f, n)) if scenario.is_async else time_batch
        n = max(5, batch // (1 + scenario.chunks // 8))
        # Warm up both paths (imports, connection pools, caches) and capture the span for the floor.
        run(scenario.baseline, n)
        run(scenario.instrumented, n)
        floor = floor_for(scenario)
        if scenario.is_async:

            async def in_situ(
                baseline: Callable[[], Awaitable[Any]] = scenario.baseline, floor: Callable[[], Any] = floor
            ) -> None:
                await baseline()
                floor()
        else:

            def in_situ(
                baseline: Callable[[], Any] = scenario.baseline,  # type: ignore[misc]
                floor: Callable[[], Any] = floor,
            ) -> None:
                baseline()
                floor()

        base, inst, tight, situ = [], [], [], []
        for _ in range(rounds):
            gc.collect()
            base.append(run(scenario.baseline, n))
            gc.collect()
            inst.append(run(scenario.instrumented, n))
            gc.collect()
            situ.append(run(in_situ, n))
            gc.collect()
            tight.append(time_batch(floor, n))
        results.append(
            Result(scenario.label, scenario.chunks, min(base) * 1e6, min(inst) * 1e6, min(tight) * 1e6, min(situ) * 1e6)
        )
    return results


def make_floor(
    pipeline: Pipeline, chunks: int, output_chunks: int | None = None, current: bool = False
) -> Callable[[], Any]:
    """The bare SDK cost of our telemetry for one call: same span attributes, same metric records.
    ``current``: the span made current around the call with ``start_as_current_span``, the SDK's
    idiom for a span that what runs inside (the HTTP request, a log line) must see."""
    span = pipeline.last.span
    assert span is not None, "no span was recorded during warm-up"
    attrs = dict(span.attributes or {})
    name = span.name
    start_keys = {
        k
        for k in attrs
        if k.startswith(
            (
                "gen_ai.request",
                "gen_ai.operation",
                "gen_ai.provider",
                "server.",
                "openai.api",
                "openai.request",
                "gen_ai.output",
                "gen_ai.system",
                "gen_ai.input",
                "gen_ai.tool",
                "gen_ai.conversation",
            )
        )
    }
    start_attrs = {k: v for k, v in attrs.items() if k in start_keys}
    end_attrs = {k: v for k, v in attrs.items() if k not in start_keys}
    tracer = pipeline.tracer_provider.get_tracer("floor")
    meter = pipeline.meter_provider.get_meter("floor")
    duration = meter.create_histogram(
        sc.METRIC_OPERATION_DURATION, unit="s", explicit_bucket_boundaries_advisory=sc.DURATION_BUCKETS
    )
    tokens = meter.create_histogram(
        sc.METRIC_TOKEN_USAGE, unit="{token}", explicit_bucket_boundaries_advisory=sc.TOKEN_BUCKETS
    )
    ttfc = meter.create_histogram(
        sc.METRIC_TIME_TO_FIRST_CHUNK, unit="s", explicit_bucket_boundaries_advisory=sc.DURATION_BUCKETS
    )
    tpoc = meter.create_histogram(
        sc.METRIC_TIME_PER_OUTPUT_CHUNK, unit="s", explicit_bucket_boundaries_advisory=sc.DURATION_BUCKETS
    )
    cost = meter.create_counter(sc.METRIC_OPERATION_COST, unit="USD")
    priced = sc.GEN_AI_USAGE_COST_AMOUNT in attrs
    metric_attrs = {
        k: attrs[k]
        for k in (
            sc.GEN_AI_OPERATION_NAME,
            sc.GEN_AI_PROVIDER_NAME,
            sc.GEN_AI_REQUEST_MODEL,
            sc.SERVER_ADDRESS,
            sc.SERVER_PORT,
            sc.GEN_AI_RESPONSE_MODEL,
        )
        if k in attrs
    }
    has_usage = sc.GEN_AI_USAGE_INPUT_TOKENS in attrs
    input_attrs = {**metric_attrs, sc.GEN_AI_TOKEN_TYPE: "input"}
    output_attrs = {**metric_attrs, sc.GEN_AI_TOKEN_TYPE: "output"}
    if output_chunks is None:
        output_chunks = chunks + 2 if chunks else 0  # openai: role chunk + content chunks + finish chunk

    def floor() -> None:
        if current:
            with tracer.start_as_current_span(
                name, kind=SpanKind.CLIENT, attributes=start_attrs, end_on_exit=False
            ) as s:
                telemetry(s)
        else:
            telemetry(tracer.start_span(name, kind=SpanKind.CLIENT, attributes=start_attrs))

    def telemetry(s: Any) -> None:
        s.set_attributes(end_attrs)
        # As we do: the duration record carries the span's context (its exemplar leads to the trace).
        duration.record(0.1, metric_attrs, trace.set_span_in_context(s))
        if has_usage:
            tokens.record(10, input_attrs)
            tokens.record(10, output_attrs)
        if priced:
            cost.add(0.001, metric_attrs)
        if output_chunks:
            ttfc.record(0.01, metric_attrs)
            for _ in range(output_chunks - 1):
                tpoc.record(0.001, metric_attrs)
        s.end()

    return floor


def openai_scenarios(fake: FakeLLM, base_url: str | None, transport: bool) -> tuple[list[Scenario], Any]:
    import openai
    from openai.resources.chat.completions.completions import AsyncCompletions, Completions

    kwargs: dict[str, Any] = {"api_key": "sk-bench", "max_retries": 0}
    if transport:
        import httpx2

        sync_client = openai.OpenAI(
            base_url="http://fake.local/v1", http_client=httpx2.Client(transport=fake.transport()), **kwargs
        )
        async_client = openai.AsyncOpenAI(
            base_url="http://fake.local/v1",
            http_client=httpx2.AsyncClient(transport=fake.transport(asynchronous=True)),
            **kwargs,
        )
    else:
        sync_client = openai.OpenAI(base_url=base_url, **kwargs)
        async_client = openai.AsyncOpenAI(base_url=base_url, **kwargs)
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Write a haiku about observability and tracing."},
    ]
    request = {"model": "gpt-4o", "messages": messages, "temperature": 0.7, "max_tokens": 256}
    original = Completions.__dict__["create"].__wrapped__
    async_original = AsyncCompletions.__dict__["create"].__wrapped__
    sync_res, async_res = sync_client.chat.completions, async_client.chat.completions

    def stream_kwargs() -> dict[str, Any]:
        return {**request, "stream": True, "stream_options": {"include_usage": True}}

    def consume(stream: Any) -> None:
        for _ in stream:
            pass

    async def aconsume(stream: Any) -> None:
        async for _ in stream:
            pass

    def scenario_set(chunks: int) -> list[Scenario]:
        text = " ".join(f"w{i}" for i in range(max(chunks, 8)))
        fake_reply = Reply(text=text, chunks=chunks or None)

        def prime() -> None:
            fake.push(fake_reply)

        if not chunks:
            return [
                Scenario(
                    "openai chat, sync",
                    0,
                    lambda: (prime(), original(sync_res, **request)),
                    lambda: (prime(), sync_res.create(**request)),
                ),
                Scenario(
                    "openai chat, async",
                    0,
                    lambda: _after(prime, async_original(async_res, **request)),
                    lambda: _after(prime, async_res.create(**request)),
                    is_async=True,
                ),
            ]

        async def abase() -> None:
            prime()
            await aconsume(await async_original(async_res, **stream_kwargs()))

        async def ainst() -> None:
            prime()
            await aconsume(await async_res.create(**stream_kwargs()))

        return [
            Scenario(
                f"openai stream {chunks} chunks, sync",
                chunks,
                lambda: (prime(), consume(original(sync_res, **stream_kwargs()))),
                lambda: (prime(), consume(sync_res.create(**stream_kwargs()))),
            ),
            Scenario(f"openai stream {chunks} chunks, async", chunks, abase, ainst, is_async=True),
        ]

    return [*scenario_set(0), *scenario_set(8), *scenario_set(64)], (sync_client, async_client)


async def _after(before: Callable[[], Any], awaitable: Awaitable[Any]) -> Any:
    before()
    return await awaitable


def report(title: str, results: list[Result]) -> None:
    print(f"\n{title}")
    print(
        f"{'scenario':38} {'baseline µs':>12} {'instr. µs':>10} {'added µs':>9} {'ratio':>6} "
        f"{'floor tight':>11} {'floor in situ':>13} {'added/floor':>11}"
    )
    for r in results:
        print(
            f"{r.label:38} {r.baseline_us:12.1f} {r.instrumented_us:10.1f} {r.added_us:9.1f} "
            f"{r.instrumented_us / r.baseline_us:6.2f} {r.floor_tight_us:11.1f} {r.floor_us:13.1f} "
            f"{r.added_us / r.floor_us:11.2f}"
        )
    by_label = {r.label: r for r in results}
    for mode in ("sync", "async"):
        for provider in sorted({r.label.split()[0] for r in results}):
            r64 = by_label.get(f"{provider} stream 64 chunks, {mode}")
            r8 = by_label.get(f"{provider} stream 8 chunks, {mode}")
            if r64 and r8:
                per_chunk = (r64.added_us - r8.added_us) / 56
                floor_chunk = (r64.floor_us - r8.floor_us) / 56
                print(
                    f"  {provider} per chunk ({mode}): added {per_chunk:.2f} µs; floor (one histogram record) "
                    f"{floor_chunk:.2f} µs; added - floor = {per_chunk - floor_chunk:+.2f} µs"
                )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier)")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--batch", type=int, default=200, help="calls per timed batch (non-streaming)")
    parser.add_argument("--transport", choices=("inprocess", "http"), default="inprocess")
    parser.add_argument("--providers", default="openai,anthropic", help="comma list")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: process CPU time, robust on a machine busy with other work",
    )
    parser.add_argument("--capture", default="NO_CONTENT,SPAN_AND_EVENT", help="comma list of capture modes")
    args = parser.parse_args(argv)
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    rounds = args.rounds or (5 if args.quick else 15)

    from opentelemetry_instrumentation_llm.instrumentor import INSTRUMENTORS

    fake = FakeLLM()
    server = FakeLLMServer(fake).start() if args.transport == "http" else None
    loop = asyncio.new_event_loop()
    print(
        f"python {sys.version.split()[0]}, rounds={rounds}, batch={args.batch}, transport={args.transport}, "
        f"clock={args.clock}"
    )
    try:
        for capture in args.capture.split(","):
            pipeline = Pipeline.create()
            results: list[Result] = []
            for provider in args.providers.split(","):
                factory = SCENARIOS.get(provider)
                instrumentor_type = INSTRUMENTORS.get(provider)
                if factory is None or instrumentor_type is None:
                    continue
                instrumentor = instrumentor_type()
                instrumentor.instrument(**pipeline.providers, capture_content=capture)
                try:
                    base_url = None
                    if server is not None:
                        base_url = server.openai_base_url if provider == "openai" else server.anthropic_base_url
                    scenarios, _clients = factory(fake, base_url, args.transport == "inprocess")
                    results += measure(
                        scenarios,
                        lambda s, p=pipeline, v=provider: make_floor(
                            p, s.chunks, OUTPUT_CHUNKS[v](s.chunks) if v in OUTPUT_CHUNKS else None
                        ),
                        loop,
                        rounds,
                        args.batch,
                    )
                finally:
                    instrumentor.uninstrument()
            report(f"content capture {capture}", results)
            pipeline.tracer_provider.shutdown()
            pipeline.logger_provider.shutdown()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        if server is not None:
            server.stop()
    return 0


def anthropic_scenarios(fake: FakeLLM, base_url: str | None, transport: bool) -> tuple[list[Scenario], Any]:
    import anthropic
    from anthropic.resources.messages.messages import AsyncMessages, Messages

    kwargs: dict[str, Any] = {"api_key": "sk-ant-bench", "max_retries": 0}
    if transport:
        import httpx2

        sync_client = anthropic.Anthropic(
            base_url="http://fake.local", http_client=httpx2.Client(transport=fake.transport()), **kwargs
        )
        async_client = anthropic.AsyncAnthropic(
            base_url="http://fake.local",
            http_client=httpx2.AsyncClient(transport=fake.transport(asynchronous=True)),
            **kwargs,
        )
    else:
        sync_client = anthropic.Anthropic(base_url=base_url, **kwargs)
        async_client = anthropic.AsyncAnthropic(base_url=base_url, **kwargs)
    request = {
        "model": "claude-opus-4-6",
        "max_tokens": 256,
        "system": "You are a helpful assistant.",
        "messages": [{"role": "user", "content": "Write a haiku about observability and tracing."}],
    }
    original = Messages.__dict__["create"].__wrapped__
    async_original = AsyncMessages.__dict__["create"].__wrapped__
    sync_res, async_res = sync_client.messages, async_client.messages

    def consume(stream: Any) -> None:
        for _ in stream:
            pass

    async def aconsume(stream: Any) -> None:
        async for _ in stream:
            pass

    def scenario_set(chunks: int) -> list[Scenario]:
        text = " ".join(f"w{i}" for i in range(max(chunks, 8)))
        reply = Reply(text=text, chunks=chunks or None)

        def prime() -> None:
            fake.push(reply)

        if not chunks:
            return [
                Scenario(
                    "anthropic messages, sync",
                    0,
                    lambda: (prime(), original(sync_res, **request)),
                    lambda: (prime(), sync_res.create(**request)),
                ),
                Scenario(
                    "anthropic messages, async",
                    0,
                    lambda: _after(prime, async_original(async_res, **request)),
                    lambda: _after(prime, async_res.create(**request)),
                    is_async=True,
                ),
            ]

        async def abase() -> None:
            prime()
            await aconsume(await async_original(async_res, stream=True, **request))

        async def ainst() -> None:
            prime()
            await aconsume(await async_res.create(stream=True, **request))

        return [
            Scenario(
                f"anthropic stream {chunks} chunks, sync",
                chunks,
                lambda: (prime(), consume(original(sync_res, stream=True, **request))),
                lambda: (prime(), consume(sync_res.create(stream=True, **request))),
            ),
            Scenario(f"anthropic stream {chunks} chunks, async", chunks, abase, ainst, is_async=True),
        ]

    return [*scenario_set(0), *scenario_set(8), *scenario_set(64)], (sync_client, async_client)


# How many chunks of an n-chunk reply carry output (and so get a time_per_output_chunk record).
OUTPUT_CHUNKS: dict[str, Callable[[int], int]] = {
    "openai": lambda n: n + 2 if n else 0,  # role chunk + content chunks + finish chunk
    "anthropic": lambda n: n,  # content_block_delta events
}

SCENARIOS: dict[str, Callable[[FakeLLM, str | None, bool], tuple[list[Scenario], Any]]] = {
    "openai": openai_scenarios,
    "anthropic": anthropic_scenarios,
}

if __name__ == "__main__":
    sys.exit(main())
