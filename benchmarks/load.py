"""Load held: throughput at saturation, uninstrumented vs instrumented, with the real export path.

Run:  python benchmarks/load.py                    (5 alternating pairs of 20 s runs, then the variants)
      python benchmarks/load.py --quick            (2 pairs of 3 s; no variants)
      python benchmarks/load.py --hold 600         (one instrumented 10-minute run: queue and RSS over time)
      python benchmarks/load.py --floor            (pairs against the bare SDK emitting what ours emits)

The fake provider runs in its own process (a real HTTP server on loopback); a real collector
(``rotel``, discarding what it receives) takes OTLP. Each run is a fresh interpreter driving
``--concurrency`` asyncio tasks with the async OpenAI SDK (two in three calls are chat calls, one
in three a short stream read to the end) as fast as the provider answers. Runs alternate
uninstrumented / instrumented (``setup()`` as a user calls it: default pipeline, OTLP/gRPC), so
both meet the same machine state. Per run: calls per second, process CPU per call (every thread:
the calls, our instrumentation, the export threads), and, sampled every second, the span export
queue and RSS, to show they do not grow. Then single runs of pipeline variants locate the cost:
instrumentation without exporters, each signal's exporter alone, HTTP instead of gRPC, other
batch sizes. ``--floor`` pairs the uninstrumented runs with the bare OpenTelemetry SDK doing, around
each call, what ours does (spans and records captured from one instrumented call of each shape),
through the same ``setup()`` pipeline: the cost of the conventions' telemetry itself.

Goal: at most 10% throughput loss at saturation; export queue and RSS flat over a long run.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _collector import BlackholeCollector, free_port, span_export_queue

PAGE = os.sysconf("SC_PAGE_SIZE")
MESSAGES = [{"role": "user", "content": "Summarise the plot of Hamlet in two sentences."}]

# Pipeline variants: environment for the instrumented worker. "default" is what setup() does.
VARIANTS: dict[str, dict[str, str]] = {
    "default (setup(), OTLP/gRPC)": {},
    "instrumentation only (no exporters)": {
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    },
    "traces exported only": {"OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"},
    "metrics exported only": {"OTEL_TRACES_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"},
    "OTLP/HTTP instead of gRPC": {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
    "span batches of 128 every 1 s": {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "128", "OTEL_BSP_SCHEDULE_DELAY": "1000"},
    "span batches of 2048, queue 8192": {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2048", "OTEL_BSP_MAX_QUEUE_SIZE": "8192"},
    "content capture on": {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_AND_EVENT"},
}


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


# --------------------------------------------------------------------------- one run (a fresh interpreter)


class Sampler(threading.Thread):
    """Every second: the span export queue length and RSS."""

    def __init__(self, queue: Any) -> None:
        super().__init__(daemon=True)
        self.queue = queue
        self.samples: list[tuple[int, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append((len(self.queue) if self.queue is not None else 0, rss()))


def thread_cpu() -> dict[str, float]:
    """CPU seconds used so far by each thread of this process (Python threads by name, native
    threads such as gRPC's by their kernel name), from /proc."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/self/task/{tid}/comm") as comm:
                kernel_name = comm.read().strip()
        except OSError:
            continue
        name = names.get(int(tid), f"native: {kernel_name}")
        if name.startswith(("OtelBatch", "OtelPeriodic")):
            name = name.split("-")[0]
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return used


async def drive(
    base_url: str, concurrency: int, warmup: float, duration: float, floor: Floor | None = None
) -> tuple[int, float, float, dict[str, float]]:
    """(calls completed, wall seconds, process CPU seconds, CPU seconds per thread) in the measured window.
    ``floor``: each call is wrapped in the bare SDK's telemetry for it (see :func:`floor_of`)."""
    import httpx2
    import openai

    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = openai.AsyncOpenAI(
        api_key="sk-load", base_url=base_url, max_retries=0, http_client=httpx2.AsyncClient(limits=limits, timeout=30)
    )
    state = {"measuring": False, "calls": 0}
    stop_at = time.monotonic() + warmup + duration

    async def worker(index: int) -> None:
        n = index
        while time.monotonic() < stop_at:
            n += 1
            streamed = n % 3 == 0
            if floor is None:
                await one_call(client, streamed)
            else:
                await floor(streamed, functools.partial(one_call, client, streamed))
            if state["measuring"]:
                state["calls"] += 1

    tasks = [asyncio.create_task(worker(i)) for i in range(concurrency)]
    await asyncio.sleep(warmup)
    state["measuring"] = True
    wall, cpu, threads = time.perf_counter(), time.process_time(), thread_cpu()
    await asyncio.gather(*tasks)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    threads = {name: used - threads.get(name, 0.0) for name, used in thread_cpu().items()}
    await client.close()
    return state["calls"], wall, cpu, threads


async def one_call(client: Any, streamed: bool) -> None:
    """What every task does: two chat calls for every short stream, the stream read to the end."""
    if streamed:
        stream: Any = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,  # type: ignore[arg-type]
            stream=True,
        )
        async for _ in stream:
            pass
    else:
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]


def worker_main(mode: str, base_url: str, endpoint: str, concurrency: int, duration: float) -> dict[str, Any]:
    telemetry, queue, floor = None, None, None
    if mode != "uninstrumented":
        from opentelemetry_instrumentation_llm import setup

        shapes = capture_shapes(base_url) if mode == "floor" else None
        telemetry = setup("load", endpoint=endpoint, gpu=False, instrument=mode == "instrumented")
        queue = span_export_queue(telemetry)
        floor = floor_of(shapes) if shapes is not None else None
    sampler = Sampler(queue)
    sampler.start()
    calls, wall, cpu, threads = asyncio.run(
        drive(base_url, concurrency, warmup=min(2.0, duration / 5), duration=duration, floor=floor)
    )
    sampler.stop.set()
    result: dict[str, Any] = {"calls": calls, "wall": wall, "cpu": cpu, "samples": sampler.samples, "threads": threads}
    if telemetry is not None:
        started = time.perf_counter()
        telemetry.shutdown()
        result["shutdown_s"] = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- the floor (--floor)

Floor = Callable[[bool, Callable[[], Awaitable[None]]], Awaitable[None]]
# (span name, attributes at start, attributes set before the end, histogram records), per call shape.
Shape = tuple[str, dict[str, Any], dict[str, Any], list[tuple[str, dict[str, Any], int, bool]]]


def capture_shapes(base_url: str) -> dict[bool, Shape]:
    """One chat call and one stream through our instrumentation into in-memory providers: what the
    floor must reproduce for each (the span, when each attribute was given, every histogram record
    with its attributes and whether it made an exemplar)."""
    from bench_agents import Pipeline, new_records

    from opentelemetry_instrumentation_llm.instrumentor import OpenAIInstrumentor

    pipeline = Pipeline()
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(**pipeline.providers)
    shapes: dict[bool, Shape] = {}
    for streamed in (False, True):
        before = pipeline.points()
        asyncio.run(_one_closed_call(base_url, streamed))
        records = new_records(before, pipeline.points())
        span = pipeline.collect.spans[-1]
        shapes[streamed] = (span.name, *pipeline.collect.split(span), records)
    instrumentor.uninstrument()
    return shapes


async def _one_closed_call(base_url: str, streamed: bool) -> None:
    import httpx2
    import openai

    client = openai.AsyncOpenAI(api_key="sk-load", base_url=base_url, max_retries=0, http_client=httpx2.AsyncClient())
    await one_call(client, streamed)
    await client.close()


def floor_of(shapes: dict[bool, Shape]) -> Floor:
    """The bare OpenTelemetry SDK doing, around each call, what ours does: the span made current
    around the call with its attributes given when ours gives them, and every histogram record
    (with the span's context where ours makes an exemplar), through the pipeline ``setup()`` built."""
    from opentelemetry import context, metrics, trace
    from opentelemetry.context import Context, create_key

    tracer, meter = trace.get_tracer("floor"), metrics.get_meter("floor")
    no_exemplar = Context({create_key("floor.no-exemplar"): True})
    histograms: dict[str, Any] = {}
    prepared = {}
    for streamed, (name, start, later, records) in shapes.items():
        flat = []
        for metric, attrs, count, exemplar in records:
            histogram = histograms.setdefault(metric, meter.create_histogram(metric))
            flat += [(histogram, attrs, exemplar)] * count
        prepared[streamed] = (name, start, later, flat)

    async def floor(streamed: bool, call: Callable[[], Awaitable[None]]) -> None:
        name, start, later, flat = prepared[streamed]
        with tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes=start) as span:
            await call()
            span.set_attributes(later)
            current = context.get_current()
            for histogram, attrs, exemplar in flat:
                histogram.record(0.5, attrs, current if exemplar else no_exemplar)

    return floor


# --------------------------------------------------------------------------- the orchestrator


def cpu_split(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """(client CPUs, service CPUs): with ``pin``, the client process gets one CPU of its own and the
    fake provider and the collector the others, as when they run on other machines; else no pinning."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return None, None
    return {cpus[0]}, set(cpus[1:])


class Services:
    """The fake provider (its own process) and the collector, for the whole sitting."""

    def __init__(self, cpus: set[int] | None = None) -> None:
        self.provider_port = free_port()
        self.provider = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, threading\n"
                "from opentelemetry_instrumentation_llm.testing import FakeLLMServer\n"
                "server = FakeLLMServer(port=int(sys.argv[1])); server.fake.exchanges = type('L', (list,), "
                "{'append': lambda self, x: None})(); server.start(); print('ready', flush=True)\n"
                "threading.Event().wait()",
                str(self.provider_port),
            ],
            stdout=subprocess.PIPE,
        )
        assert self.provider.stdout is not None
        self.provider.stdout.readline()
        self.collector = BlackholeCollector.start()
        if cpus:
            for process in (self.provider, self.collector.process):
                os.sched_setaffinity(process.pid, cpus)
        self.endpoint = self.collector.grpc_endpoint
        self.http_endpoint = self.collector.http_endpoint

    def close(self) -> None:
        self.provider.terminate()
        self.provider.wait(10)
        self.collector.stop()


def run_worker(
    services: Services,
    instrumented: bool,
    args: argparse.Namespace,
    env: dict[str, str] | None = None,
    mode: str | None = None,
) -> dict[str, Any]:
    """One worker process: ``mode`` (default: instrumented or not) may also be ``floor``."""
    client_cpus = args.client_cpus
    environment = {**os.environ, **(env or {})}
    endpoint = (
        services.http_endpoint
        if env and env.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "http/protobuf"
        else services.endpoint
    )
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            mode or ("instrumented" if instrumented else "uninstrumented"),
            "--base-url",
            f"http://127.0.0.1:{services.provider_port}/v1",
            "--endpoint",
            endpoint,
            "--concurrency",
            str(args.concurrency),
            "--duration",
            str(args.duration),
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        preexec_fn=(lambda: os.sched_setaffinity(0, client_cpus)) if client_cpus else None,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def describe(result: dict[str, Any]) -> tuple[float, float]:
    """(calls per second, CPU µs per call)."""
    return result["calls"] / result["wall"], result["cpu"] / result["calls"] * 1e6


def background_cpu(result: dict[str, Any]) -> float:
    """CPU µs per call spent outside the main thread (export threads, gRPC's own threads)."""
    threads: dict[str, float] = result["threads"]
    calls: int = result["calls"]
    return sum(v for k, v in threads.items() if k != "MainThread") / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 pairs of 3 s runs, no variants")
    parser.add_argument("--pairs", type=int, default=5, help="alternating uninstrumented/instrumented pairs")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run (600 for the long hold)")
    parser.add_argument("--concurrency", type=int, default=48, help="concurrent asyncio tasks")
    parser.add_argument("--no-variants", action="store_true")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="give the client process one CPU of its own and the provider and collector the others "
        "(default: all share every CPU, as in the published runs)",
    )
    parser.add_argument("--hold", type=float, metavar="SECONDS", help="one instrumented run this long, sampled")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="pair the uninstrumented runs with the bare OpenTelemetry SDK doing what ours does (the same "
        "spans and records around each call, through setup()'s pipeline) instead of with ours; no variants",
    )
    parser.add_argument("--worker", choices=["uninstrumented", "instrumented", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker_main(args.worker, args.base_url, args.endpoint, args.concurrency, args.duration)))
        return 0
    if args.quick:
        args.pairs, args.duration, args.no_variants = 2, 3.0, True
    if args.floor:
        args.no_variants = True
    os.environ.setdefault("OTEL_EXPORTER_OTLP_INSECURE", "true")
    args.client_cpus, service_cpus = cpu_split(args.pin)
    services = Services(service_cpus)
    if args.hold:
        args.duration = args.hold
        try:
            return report_hold(args, run_worker(services, True, args))
        finally:
            services.close()
    try:
        second = "floor" if args.floor else "instrumented"
        pairs = [
            (run_worker(services, False, args), run_worker(services, True, args, mode=second))
            for _ in range(args.pairs)
        ]
        variants = (
            {} if args.no_variants else {name: run_worker(services, True, args, env) for name, env in VARIANTS.items()}
        )
        baseline_again = None if args.no_variants else run_worker(services, False, args)
    finally:
        services.close()
    return report(args, pairs, variants, baseline_again)


def report(
    args: argparse.Namespace,
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    variants: dict[str, dict[str, Any]],
    baseline_again: dict[str, Any] | None,
) -> int:
    pinned = (
        f"client on CPU {sorted(args.client_cpus)}, provider and collector on the others"
        if args.client_cpus
        else "no pinning"
    )
    print(
        f"Load: {args.concurrency} concurrent tasks, {args.duration:g} s per run, {os.cpu_count()} CPUs ({pinned}), "
        f"Python {sys.version.split()[0]}"
    )
    if args.floor:
        print("second run of each pair: the bare SDK floor (the same spans and records, no instrumentation)")
    print(
        f"\n{'pair':<6}{'uninstrumented calls/s':>24}{'instrumented calls/s':>22}{'loss':>8}"
        f"{'CPU µs/call U':>15}{'I':>8}{'+CPU':>8}{'of which off the main thread':>30}"
    )
    losses, extra_cpu = [], []
    for i, (base, ours) in enumerate(pairs, 1):
        (tb, cb), (ti, ci) = describe(base), describe(ours)
        losses.append(1 - ti / tb)
        extra_cpu.append(ci - cb)
        print(
            f"{i:<6}{tb:>24.0f}{ti:>22.0f}{losses[-1]:>8.1%}{cb:>15.0f}{ci:>8.0f}{ci - cb:>8.0f}"
            f"{background_cpu(ours) - background_cpu(base):>30.0f}"
        )
    print(
        f"median throughput loss {statistics.median(losses):.1%}, median extra CPU per call "
        f"{statistics.median(extra_cpu):.0f} µs (goal: loss at most 10%)"
    )
    samples = [s for _, ours in pairs for s in [ours["samples"]]]
    for i, run in enumerate(samples, 1):
        if run:
            queue = [q for q, _ in run]
            tenth = max(1, len(run) // 10)
            print(
                f"instrumented run {i}: span export queue max {max(queue)} (capacity 2048), last {queue[-1]}; "
                f"RSS {run[tenth - 1][1] / 2**20:.1f} MB at 10% -> {run[-1][1] / 2**20:.1f} MB at the end; "
                f"shutdown {pairs[i - 1][1].get('shutdown_s', 0):.2f} s"
            )
    if variants and baseline_again is not None:
        reference = statistics.median([describe(b)[0] for b, _ in pairs] + [describe(baseline_again)[0]])
        reference_cpu = statistics.median([describe(b)[1] for b, _ in pairs] + [describe(baseline_again)[1]])
        print(
            f"\nWhere the cost goes (single runs; reference: median uninstrumented {reference:.0f} calls/s, "
            f"{reference_cpu:.0f} µs CPU/call)"
        )
        print(f"{'pipeline':<40}{'calls/s':>9}{'loss':>8}{'+CPU µs/call':>14}{'off main thread':>17}")
        for name, result in variants.items():
            throughput, cpu = describe(result)
            print(
                f"{name:<40}{throughput:>9.0f}{1 - throughput / reference:>8.1%}{cpu - reference_cpu:>14.0f}"
                f"{background_cpu(result):>17.0f}"
            )
    return 0 if statistics.median(losses) <= 0.10 else 1


def report_hold(args: argparse.Namespace, run: dict[str, Any]) -> int:
    """Queue and RSS through one long instrumented run: flat means nothing accumulates."""
    throughput, cpu = describe(run)
    print(
        f"Hold: {args.concurrency} concurrent tasks for {args.hold:g} s, {os.cpu_count()} CPUs; "
        f"{run['calls']} calls, {throughput:.0f} calls/s, {cpu:.0f} µs CPU per call"
    )
    samples = run["samples"]
    step = max(1, len(samples) // 10)
    print(f"{'second':>7}{'span queue':>12}{'RSS MB':>9}")
    for second in range(step - 1, len(samples), step):
        queue, resident = samples[second]
        print(f"{second + 1:>7}{queue:>12}{resident / 2**20:>9.1f}")
    queues = [q for q, _ in samples]
    first_half = [r for _, r in samples[len(samples) // 10 : len(samples) // 2]]
    second_half = [r for _, r in samples[len(samples) // 2 :]]
    print(
        f"span queue max {max(queues)} of 2048; RSS median first half (after 10%) "
        f"{statistics.median(first_half) / 2**20:.1f} MB, second half {statistics.median(second_half) / 2**20:.1f} MB; "
        f"shutdown {run.get('shutdown_s', 0):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
