"""The fault matrix as tests: the application sees what it sees uninstrumented, whatever breaks.

Provider faults run the real SDKs against the fake provider twice, uninstrumented then
instrumented; export faults run chat calls through ``setup()`` while the collector is down, hung
or restarted, an exporter raises, or NVML raises or hangs. ``benchmarks/faults.py`` prints the
same matrix as a table.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from opentelemetry_instrumentation_llm.testing import FakeLLMServer
from tests.conftest import Telemetry
from tests.e2e.collector import OTLPSink, Rotel, free_port, wait_until
from tests.fakes import fake_pynvml
from tests.fault_matrix import (
    PROVIDER_FAULTS,
    ProviderFault,
    RaisingSpanExporter,
    ScriptedBodies,
    blackhole_endpoint,
    compare,
    export_run,
)

CALLS = 12


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(ScriptedBodies()) as server:
        yield server


@pytest.fixture
def sink_and_collector() -> Iterator[tuple[OTLPSink, Rotel]]:
    sink = OTLPSink().start()
    collector = Rotel(sink).start()
    try:
        yield sink, collector
    finally:
        collector.stop()
        sink.stop()


@pytest.fixture(autouse=True)
def _frequent_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Export every 50 ms, so exports happen while the collector is down or hung."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "50")
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "200")


@pytest.mark.parametrize("fault", PROVIDER_FAULTS, ids=[f.name for f in PROVIDER_FAULTS])
def test_provider_fault(fault: ProviderFault, scripted_server: FakeLLMServer, telemetry: Telemetry) -> None:
    result = compare(fault, scripted_server, telemetry.providers, telemetry.spans)
    assert result.instrumented == result.uninstrumented
    assert len(result.spans) == fault.expected_spans
    if fault.expected_spans:
        assert result.error_types == [fault.expected_error_type]
        assert all(span.end_time is not None for span in result.spans)


def test_collector_down_changes_nothing_for_the_application(fake_server: FakeLLMServer) -> None:
    run = export_run("collector down", fake_server, f"http://127.0.0.1:{free_port()}", CALLS)
    assert run.same_outcome


def test_hung_collector_changes_nothing_for_the_application(fake_server: FakeLLMServer) -> None:
    with blackhole_endpoint() as endpoint:
        run = export_run("collector hung", fake_server, endpoint, CALLS)
    assert run.same_outcome


def test_collector_restarted_mid_run_loses_no_span(
    fake_server: FakeLLMServer, sink_and_collector: tuple[OTLPSink, Rotel]
) -> None:
    sink, collector = sink_and_collector

    def during(i: int) -> None:
        if i == CALLS // 3:
            collector.stop()  # a rolling restart: SIGTERM, the collector drains what it accepted
        elif i == 2 * CALLS // 3:
            collector.start()

    # With the SDK's default export timeout (10 s, retries included) a batch refused while the
    # collector is down is retried until it is back.
    run = export_run(
        "collector restarted",
        fake_server,
        collector.grpc_endpoint,
        CALLS,
        sink=sink,
        during=during,
        export_timeout=None,
    )
    assert run.same_outcome
    assert run.spans_at_collector == CALLS


def test_an_exporter_that_raises_harms_neither_the_call_nor_other_exporters(
    fake_server: FakeLLMServer, sink_and_collector: tuple[OTLPSink, Rotel]
) -> None:
    sink, collector = sink_and_collector
    broken = RaisingSpanExporter()
    run = export_run("exporter raises", fake_server, collector.grpc_endpoint, CALLS, sink=sink, extra_exporter=broken)
    assert broken.attempts > 0
    assert run.same_outcome
    assert run.spans_at_collector == CALLS


@pytest.fixture
def broken_nvml(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from tests.test_gpu import H100, fresh

    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml.as_module())
    fake_pynvml.configure([fresh(H100)])
    yield fake_pynvml


def test_nvml_raising_harms_neither_calls_nor_other_metrics(
    fake_server: FakeLLMServer,
    broken_nvml: Any,
    sink_and_collector: tuple[OTLPSink, Rotel],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink, collector = sink_and_collector

    def power_fails(handle: int) -> int:
        raise RuntimeError("NVML bug")

    monkeypatch.setattr(broken_nvml, "nvmlDeviceGetPowerUsage", power_fails)
    run = export_run("NVML raises", fake_server, collector.grpc_endpoint, CALLS, sink=sink, gpu=True)
    assert run.same_outcome
    assert run.spans_at_collector == CALLS
    # The LLM metrics still flow. (The GPU whose power reading raises is left out of each
    # collection as a whole: gpu.py skips a device on any unexpected NVML error.)
    assert "gen_ai.client.operation.duration" in run.metrics_at_collector


class HungNvmlCall:
    """An NVML function that blocks like a wedged driver, for ``seconds`` (so the test can end)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.release = threading.Event()
        self.in_progress = 0
        self._lock = threading.Lock()

    def __call__(self, handle: int) -> int:
        with self._lock:
            self.in_progress += 1
        try:
            self.release.wait(self.seconds)
            return 1000
        finally:
            with self._lock:
                self.in_progress -= 1


def test_nvml_hanging_harms_neither_calls_nor_spans(
    fake_server: FakeLLMServer,
    broken_nvml: Any,
    sink_and_collector: tuple[OTLPSink, Rotel],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink, collector = sink_and_collector
    hung = HungNvmlCall(seconds=1.0)
    monkeypatch.setattr(broken_nvml, "nvmlDeviceGetPowerUsage", hung)
    run = export_run("NVML hangs", fake_server, collector.grpc_endpoint, CALLS, sink=sink, gpu=True)
    assert run.same_outcome
    assert run.spans_at_collector == CALLS


def test_shutdown_does_not_wait_for_a_hung_nvml(
    fake_server: FakeLLMServer, broken_nvml: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    hung = HungNvmlCall(seconds=30.0)  # released when the test ends
    monkeypatch.setattr(broken_nvml, "nvmlDeviceGetPowerUsage", hung)
    still_hung_at_shutdown: list[bool] = []
    try:
        export_run(
            "NVML hangs",
            fake_server,
            f"http://127.0.0.1:{free_port()}",
            2,
            gpu=True,
            # Shut down only once a collection is stuck in the driver.
            during=lambda i: i == 1 and wait_until(lambda: hung.in_progress > 0, 10, "a hung NVML read"),
            on_shutdown=lambda: still_hung_at_shutdown.append(hung.in_progress > 0),
        )
    finally:
        hung.release.set()
    # Shutdown (and so the interpreter's exit) must not wait for the driver: it returns while the
    # NVML call is still blocked.
    assert still_hung_at_shutdown == [True]
