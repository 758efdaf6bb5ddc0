"""Cost of one GPU metrics collection for 8 simulated GPUs, and that it stays flat over time.

Run:  python benchmarks/bench_gpu.py

The package's real NVML code path runs against the test suite's fake ``pynvml`` (8 GPUs, all
fields supported, clocks/PCIe/process memory on). Each collection is a full
``InMemoryMetricReader`` collection (our callbacks plus the SDK's aggregation). Reported: µs per
collection for the first and last 500 of 5,000 collections, and traced memory growth.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

COLLECTIONS = 5000
GPUS = 8


def main() -> int:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from tests.fakes import fake_pynvml

    sys.modules["pynvml"] = fake_pynvml.as_module()
    fake_pynvml.configure(
        [
            fake_pynvml.FakeGPU(
                uuid=f"GPU-{i:08d}-0000-0000-0000-000000000000", name="NVIDIA H100", processes=[(os.getpid(), 1024**3)]
            )
            for i in range(GPUS)
        ]
    )
    from opentelemetry_instrumentation_llm.gpu import GPUInstrumentor

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    GPUInstrumentor().instrument(meter_provider=provider, extra_metrics=True, process_memory=True)
    for _ in range(50):
        reader.get_metrics_data()
    fake_pynvml.CALLS.clear()
    timings = []
    for _ in range(COLLECTIONS):
        start = time.perf_counter()
        reader.get_metrics_data()
        timings.append((time.perf_counter() - start) * 1e6)
    # Memory, in a separate pass (tracemalloc slows every allocation down).
    tracemalloc.start()
    for _ in range(200):
        reader.get_metrics_data()
    before = tracemalloc.take_snapshot()
    for _ in range(1000):
        reader.get_metrics_data()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    diffs = after.compare_to(before, "lineno")
    growth = sum(stat.size_diff for stat in diffs)
    top = [
        f"{d.traceback[0].filename.rsplit('/', 2)[-1]}:{d.traceback[0].lineno} {d.size_diff / 1024:+.1f} KiB"
        for d in diffs[:3]
    ]
    reads = fake_pynvml.CALLS["nvmlDeviceGetMemoryInfo"] / GPUS - 1200
    first, last = statistics.median(timings[:500]), statistics.median(timings[-500:])
    print(f"{GPUS} GPUs, {COLLECTIONS} collections, all metrics incl. nvml.* extras")
    print(f"  µs per collection (median): first 500 = {first:.0f}, last 500 = {last:.0f} (ratio {last / first:.2f})")
    print(f"  µs per collection per GPU: {last / GPUS:.0f}")
    print(f"  NVML reads per device per collection: {reads / COLLECTIONS:.2f}")
    print(f"  traced memory growth over 1,000 more collections: {growth / 1024:.1f} KiB (largest: {top})")
    GPUInstrumentor().uninstrument()
    return 0


if __name__ == "__main__":
    sys.exit(main())
