"""The fault matrix as a table: what the application sees when things break, instrumented or not.

Run:  python benchmarks/faults.py            (each provider fault 20 times, 60 calls per export fault)
      python benchmarks/faults.py --quick    (each once, 8 calls per export fault; ~30 s)

Provider faults (HTTP 429/500/400, a timeout, the connection cut mid-stream, a malformed SSE
stream, a truncated JSON body, bugs injected into our OpenAI adapter) run the real SDKs against
the fake provider, first uninstrumented, then instrumented through ``setup()`` exporting over
OTLP/gRPC to a real collector (``rotel``). Per fault: does the application see the same result
or the same exception (type and message); how many spans did we end per call, with which
``error.type``; and, after shutdown, do the spans counted at the collector equal the calls made.

Export faults run chat calls through ``setup()`` while the collector is down, hung, or killed
and restarted mid-run, while an extra exporter raises on every batch, and while NVML (a fake
``pynvml`` with the real module's shape) raises or hangs. Per fault: same results as
uninstrumented, spans at the collector (when one is up at shutdown) and how long shutdown took.

The cases are defined once, in ``tests/fault_matrix.py``; ``tests/test_faults.py`` runs them as tests.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from opentelemetry_instrumentation_llm import setup
from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.e2e.collector import OTLPSink, Rotel, free_port, wait_until
from tests.fault_matrix import (
    PROVIDER_FAULTS,
    ExportRun,
    RaisingSpanExporter,
    ScriptedBodies,
    blackhole_endpoint,
    compare,
    export_run,
    llm_span_count,
)


def provider_matrix(server: FakeLLMServer, repeat: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for fault in PROVIDER_FAULTS:
        sink = OTLPSink().start()
        collector = Rotel(sink).start()
        telemetry = setup("faults", endpoint=collector.grpc_endpoint, instrument=False, gpu=False, set_global=False)
        spans = InMemorySpanExporter()
        telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
        providers = {
            "tracer_provider": telemetry.tracer_provider,
            "meter_provider": telemetry.meter_provider,
            "logger_provider": telemetry.logger_provider,
        }
        results = []
        for _ in range(repeat):
            spans.clear()
            results.append(compare(fault, server, providers, spans.get_finished_spans))
        telemetry.shutdown()
        expected_at_collector = repeat * fault.expected_spans
        with contextlib.suppress(AssertionError):
            wait_until(lambda: llm_span_count(sink) >= expected_at_collector, 10, "spans")  # noqa: B023
        at_collector = llm_span_count(sink)
        collector.stop()
        sink.stop()
        first = results[0]
        seen = (
            first.instrumented.split(":")[0].replace("raised ", "")
            if first.instrumented.startswith("raised")
            else "its result"
        )
        holds = all(r.holds for r in results) and at_collector == expected_at_collector
        rows.append(
            (
                fault.name,
                seen,
                "yes" if all(r.same_outcome for r in results) else "NO",
                f"{sum(len(r.spans) for r in results) / repeat:g}",
                str(first.error_types[0] if first.spans and first.error_types[0] else "-"),
                f"{at_collector}/{repeat * fault.expected_spans}",
                "holds" if holds else "FAILS",
            )
        )
    return rows


@contextlib.contextmanager
def fake_nvml(power: Any) -> Iterator[None]:
    from tests.fakes import fake_pynvml
    from tests.test_gpu import H100, fresh

    previous = sys.modules.get("pynvml")
    sys.modules["pynvml"] = fake_pynvml.as_module()
    fake_pynvml.configure([fresh(H100)])
    original = fake_pynvml.nvmlDeviceGetPowerUsage
    fake_pynvml.nvmlDeviceGetPowerUsage = power  # type: ignore[assignment]
    try:
        yield
    finally:
        fake_pynvml.nvmlDeviceGetPowerUsage = original  # type: ignore[assignment]
        if previous is None:
            sys.modules.pop("pynvml", None)
        else:
            sys.modules["pynvml"] = previous


def export_matrix(server: FakeLLMServer, calls: int, timeout: float | None) -> list[ExportRun]:
    label = "default 10 s" if timeout is None else f"{timeout:g} s"
    runs = [
        export_run(
            f"collector down (export timeout {label})",
            server,
            f"http://127.0.0.1:{free_port()}",
            calls,
            export_timeout=timeout,
        )
    ]
    with blackhole_endpoint() as endpoint:
        runs.append(
            export_run(f"collector hung (export timeout {label})", server, endpoint, calls, export_timeout=timeout)
        )
    sink = OTLPSink().start()
    collector = Rotel(sink).start()

    def restart(i: int) -> None:
        if i == calls // 3:
            collector.stop()  # a rolling restart: SIGTERM, the collector drains what it accepted
        elif i == 2 * calls // 3:
            collector.start()

    try:
        runs.append(
            export_run(
                "collector restarted mid-run",
                server,
                collector.grpc_endpoint,
                calls,
                sink=sink,
                during=restart,
                export_timeout=None,
            )
        )
        sink.clear()
        runs.append(
            export_run(
                "an exporter raises",
                server,
                collector.grpc_endpoint,
                calls,
                sink=sink,
                extra_exporter=RaisingSpanExporter(),
            )
        )

        def power_raises(handle: int) -> int:
            raise RuntimeError("NVML bug")

        sink.clear()
        with fake_nvml(power_raises):
            runs.append(export_run("NVML raises", server, collector.grpc_endpoint, calls, sink=sink, gpu=True))
        release = threading.Event()

        def power_hangs(handle: int) -> int:
            release.wait(5)  # a wedged driver call, released after 5 s so the run ends
            return 1000

        sink.clear()
        with fake_nvml(power_hangs):
            runs.append(export_run("NVML hangs (5 s)", server, collector.grpc_endpoint, calls, sink=sink, gpu=True))
        release.set()
    finally:
        collector.stop()
        sink.stop()
    return runs


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=20, help="calls per provider fault")
    parser.add_argument("--calls", type=int, default=60, help="calls per export fault")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.calls = 1, 8
    os.environ.setdefault("OTEL_BSP_SCHEDULE_DELAY", "50")  # export often: exports meet the fault
    os.environ.setdefault("OTEL_BLRP_SCHEDULE_DELAY", "50")
    os.environ.setdefault("OTEL_METRIC_EXPORT_INTERVAL", "200")
    with FakeLLMServer(ScriptedBodies()) as server:
        provider_rows = provider_matrix(server, args.repeat)
        export_runs = export_matrix(server, args.calls, 1 if args.quick else None)
    print(f"\nProvider faults ({args.repeat} call(s) each, OpenAI SDK unless named)")
    print_table(
        (
            "fault",
            "the application sees",
            "same as uninstrumented",
            "spans per call",
            "error.type",
            "spans at collector",
            "verdict",
        ),
        provider_rows,
    )
    print(f"\nExport faults ({args.calls} chat calls each)")
    print_table(
        ("fault", "same results as uninstrumented", "spans at collector", "shutdown took", "verdict"),
        [
            (
                r.name,
                "yes" if r.same_outcome else "NO",
                "-" if r.spans_at_collector is None else f"{r.spans_at_collector}/{r.calls}",
                f"{r.shutdown_s:.1f} s",
                "holds" if r.holds else "FAILS",
            )
            for r in export_runs
        ],
    )
    failed = any(r[-1] != "holds" for r in provider_rows) or not all(r.holds for r in export_runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
