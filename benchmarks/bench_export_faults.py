"""Does a dead or slow collector slow down LLM calls? It must not: export runs in the background.

Run:  python benchmarks/bench_export_faults.py

Instrumented OpenAI chat calls (in-process fake provider, so only our pipeline differs) are timed
while setup() exports over OTLP/gRPC to:

* live:      a real collector (rotel, with its black-hole exporter) that accepts everything;
* refused:   nothing listening on the port (connection refused, the exporter retries with backoff);
* blackhole: a TCP server that accepts connections and never answers (a hung collector);

and, as the reference, with no exporter at all. Prints per-call latency (minimum over rounds of
the mean per batch) and the ratio to the reference.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ROUNDS, BATCH = 7, 150


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_collector() -> Iterator[str]:
    import rotel

    port, http = free_port(), free_port()
    binary = os.path.join(os.path.dirname(rotel.__file__), "rotel-agent")
    process = subprocess.Popen(
        [
            binary,
            "start",
            "--otlp-grpc-endpoint",
            f"127.0.0.1:{port}",
            "--otlp-http-endpoint",
            f"127.0.0.1:{http}",
            "--exporter",
            "blackhole",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def refused() -> Iterator[str]:
    yield f"http://127.0.0.1:{free_port()}"


@contextmanager
def blackhole() -> Iterator[str]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # accept, then never read or answer
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


def measure(call: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(BATCH):
            call()
        best = min(best, (time.perf_counter() - start) / BATCH)
    return best * 1e6


def main() -> int:
    import httpx2
    import openai

    from opentelemetry_instrumentation_llm import setup
    from opentelemetry_instrumentation_llm.testing import FakeLLM

    os.environ.setdefault("OTEL_BSP_SCHEDULE_DELAY", "200")  # export often, to feel any interference
    os.environ.setdefault("OTEL_METRIC_EXPORT_INTERVAL", "1000")
    fake = FakeLLM()
    client = openai.OpenAI(
        api_key="sk-bench",
        base_url="http://fake.local/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=fake.transport()),
    )
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}

    def call() -> object:
        fake.exchanges.clear()
        return client.chat.completions.create(**request)

    results: dict[str, float] = {}
    for label, target in (
        ("no exporter (reference)", None),
        ("live collector", live_collector),
        ("connection refused", refused),
        ("hung collector", blackhole),
    ):
        if target is None:
            os.environ["OTEL_TRACES_EXPORTER"] = os.environ["OTEL_METRICS_EXPORTER"] = "none"
            os.environ["OTEL_LOGS_EXPORTER"] = "none"
            handle = setup("bench", set_global=False)
            results[label] = measure(call)
            handle.shutdown()
            for name in ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"):
                del os.environ[name]
            continue
        with target() as endpoint:
            handle = setup("bench", endpoint=endpoint, set_global=False, export_timeout=2)
            results[label] = measure(call)
            started = time.perf_counter()
            handle.shutdown()
            shutdown_s = time.perf_counter() - started
        print(f"  ({label}: shutdown took {shutdown_s:.2f} s)", file=sys.stderr)
    reference = results["no exporter (reference)"]
    print(f"{'collector':28} {'µs per call':>12} {'vs reference':>13}")
    for label, value in results.items():
        print(f"{label:28} {value:12.1f} {value / reference:13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
