"""GPU gauges: the real NVML code path against a fake ``pynvml`` at the import boundary."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import Gauge, InMemoryMetricReader, Sum

from opentelemetry_instrumentation_llm.gpu import GPUInstrumentor
from tests.fakes import fake_pynvml
from tests.fakes.fake_pynvml import FakeGPU

H100 = FakeGPU(
    uuid="GPU-aaaaaaaa-0000-0000-0000-000000000001",
    name="NVIDIA H100 80GB HBM3",
    utilization=87,
    encoder=5,
    decoder=7,
    memory_total=80 * 1024**3,
    memory_used=60 * 1024**3,
    power_mw=612_345,
    energy_mj=9_876_543,
    temperature=71,
    ecc_corrected=2,
    ecc_uncorrected=1,
)
L4 = FakeGPU(
    uuid="GPU-bbbbbbbb-0000-0000-0000-000000000002",
    name="NVIDIA L4",
    utilization=12,
    memory_total=24 * 1024**3,
    memory_used=6 * 1024**3,
    power_mw=35_500,
    energy_mj=1_000_000,
    temperature=44,
    serial=None,
    unsupported={
        "nvmlDeviceGetEncoderUtilization",
        "nvmlDeviceGetDecoderUtilization",
        "nvmlDeviceGetTotalEnergyConsumption",
        "nvmlDeviceGetTotalEccErrors",
    },
)


def fresh(gpu: FakeGPU) -> FakeGPU:
    return FakeGPU(**{k: (set(v) if isinstance(v, set) else v) for k, v in vars(gpu).items()})


@pytest.fixture
def nvml(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml.as_module())
    fake_pynvml.configure([fresh(H100), fresh(L4)])
    yield fake_pynvml
    instrumentor = GPUInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


class Metrics:
    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.provider = MeterProvider(metric_readers=[self.reader])

    def collect(self) -> dict[str, Any]:
        data = self.reader.get_metrics_data()
        if not data:
            return {}
        return {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


def gpu_attrs(gpu: FakeGPU, index: int, **extra: Any) -> dict[str, Any]:
    attrs = {
        "hw.id": gpu.uuid,
        "hw.name": f"GPU {index}",
        "hw.vendor": "NVIDIA",
        "hw.model": gpu.name,
        "hw.driver_version": "550.54.15",
        "hw.firmware_version": gpu.vbios,
        "nvml.gpu.index": index,
    }
    if gpu.serial:
        attrs["hw.serial_number"] = gpu.serial
    return {**attrs, **extra}


def points(metric: Any) -> dict[frozenset, float]:
    return {frozenset(p.attributes.items()): p.value for p in metric.data.data_points}


def expect(*entries: tuple[dict[str, Any], float]) -> dict[frozenset, float]:
    return {frozenset(attrs.items()): value for attrs, value in entries}


def test_every_metric_for_two_different_gpus(nvml, metrics):
    GPUInstrumentor().instrument(meter_provider=metrics.provider)
    found = metrics.collect()
    h, l4 = gpu_attrs(H100, 0), gpu_attrs(L4, 1)
    gib = 1024**3
    assert set(found) == {
        "hw.gpu.utilization",
        "hw.gpu.memory.usage",
        "hw.gpu.memory.limit",
        "hw.gpu.memory.utilization",
        "hw.power",
        "hw.energy",
        "hw.temperature",
        "hw.errors",
    }
    kinds = {name: (type(m.data).__name__, m.unit, getattr(m.data, "is_monotonic", None)) for name, m in found.items()}
    assert kinds == {
        "hw.gpu.utilization": ("Gauge", "1", None),
        "hw.gpu.memory.usage": ("Sum", "By", False),
        "hw.gpu.memory.limit": ("Sum", "By", False),
        "hw.gpu.memory.utilization": ("Gauge", "1", None),
        "hw.power": ("Gauge", "W", None),
        "hw.energy": ("Sum", "J", True),
        "hw.temperature": ("Gauge", "Cel", None),
        "hw.errors": ("Sum", "{error}", True),
    }
    assert isinstance(found["hw.power"].data, Gauge) and isinstance(found["hw.energy"].data, Sum)
    assert points(found["hw.gpu.utilization"]) == expect(
        ({**h, "hw.gpu.task": "general"}, 0.87),
        ({**h, "hw.gpu.task": "encoder"}, 0.05),
        ({**h, "hw.gpu.task": "decoder"}, 0.07),
        ({**l4, "hw.gpu.task": "general"}, 0.12),
    )
    assert points(found["hw.gpu.memory.usage"]) == expect((h, 60 * gib), (l4, 6 * gib))
    assert points(found["hw.gpu.memory.limit"]) == expect((h, 80 * gib), (l4, 24 * gib))
    assert points(found["hw.gpu.memory.utilization"]) == expect((h, 0.75), (l4, 0.25))
    assert points(found["hw.power"]) == expect(({**h, "hw.type": "gpu"}, 612.345), ({**l4, "hw.type": "gpu"}, 35.5))
    assert points(found["hw.energy"]) == expect(({**h, "hw.type": "gpu"}, 9876.543))  # the L4 cannot report it
    assert points(found["hw.errors"]) == expect(
        ({**h, "hw.type": "gpu", "error.type": "corrected"}, 2),
        ({**h, "hw.type": "gpu", "error.type": "uncorrected"}, 1),
    )
    sensor = {
        "hw.id": f"{H100.uuid}/temperature",
        "hw.name": "GPU 0 temperature",
        "hw.parent": H100.uuid,
        "hw.sensor_location": "gpu",
        "nvml.gpu.index": 0,
    }
    sensor_l4 = {
        "hw.id": f"{L4.uuid}/temperature",
        "hw.name": "GPU 1 temperature",
        "hw.parent": L4.uuid,
        "hw.sensor_location": "gpu",
        "nvml.gpu.index": 1,
    }
    assert points(found["hw.temperature"]) == expect((sensor, 71.0), (sensor_l4, 44.0))


def test_memory_bus_busy_time_is_not_memory_utilization(nvml, metrics):
    fake_pynvml.STATE["gpus"][0].memory_bus = 99
    GPUInstrumentor().instrument(meter_provider=metrics.provider)
    values = [p.value for p in metrics.collect()["hw.gpu.memory.utilization"].data.data_points]
    assert 0.99 not in values and 0.75 in values


def test_all_fields_are_read_once_per_collection(nvml, metrics):
    GPUInstrumentor().instrument(meter_provider=metrics.provider)
    fake_pynvml.CALLS.clear()
    metrics.collect()
    assert fake_pynvml.CALLS["nvmlDeviceGetMemoryInfo"] == 2  # three instruments use it; one read per device
    assert fake_pynvml.CALLS["nvmlDeviceGetUtilizationRates"] == 2
    for _ in range(3):
        metrics.collect()
    assert fake_pynvml.CALLS["nvmlDeviceGetMemoryInfo"] == 8


def test_unsupported_fields_are_not_retried(nvml, metrics):
    GPUInstrumentor().instrument(meter_provider=metrics.provider)
    for _ in range(3):
        metrics.collect()
    # GPU 0 answers every time; GPU 1 said NotSupported once and is not asked again.
    assert fake_pynvml.CALLS["nvmlDeviceGetTotalEnergyConsumption"] == 3 + 1


def test_a_lost_device_is_skipped_then_comes_back(nvml, metrics):
    GPUInstrumentor().instrument(meter_provider=metrics.provider)

    def ids(found: dict[str, Any]) -> set[str]:
        return {p.attributes["hw.id"] for p in found["hw.power"].data.data_points}

    assert ids(metrics.collect()) == {H100.uuid, L4.uuid}
    fake_pynvml.STATE["gpus"][1].lost = True
    assert ids(metrics.collect()) == {H100.uuid}
    fake_pynvml.STATE["gpus"][1].lost = False
    assert ids(metrics.collect()) == {H100.uuid, L4.uuid}


def test_a_hung_driver_holds_no_collection_and_metrics_resume(nvml, metrics, monkeypatch, caplog):
    """A GPU fallen off the bus can hang NVML calls: a collection waits for the read at most the
    deadline, later ones start no second read and report no GPU values, and the values come back
    once the driver answers."""
    import threading
    import time

    from opentelemetry_instrumentation_llm import gpu
    from tests.e2e.collector import wait_until

    monkeypatch.setattr(gpu, "_READ_DEADLINE", 0.2)
    release, real = threading.Event(), fake_pynvml.nvmlDeviceGetPowerUsage
    calls = []

    def hung(handle: Any) -> Any:
        calls.append(handle)
        release.wait(10)
        return real(handle)

    GPUInstrumentor().instrument(meter_provider=metrics.provider)
    assert "hw.power" in metrics.collect()
    monkeypatch.setattr(fake_pynvml, "nvmlDeviceGetPowerUsage", hung)
    with caplog.at_level(logging.WARNING, logger="opentelemetry_instrumentation_llm.gpu"):
        started = time.monotonic()
        first = metrics.collect()
        second = metrics.collect()
        waited = time.monotonic() - started
    assert "hw.power" not in first and "hw.power" not in second
    assert waited < 2, "each collection waits the deadline at most, the second not at all"
    assert len(calls) == 1, "no second read while one is hung"
    assert sum("has not returned" in r.getMessage() for r in caplog.records) == 1
    monkeypatch.setattr(fake_pynvml, "nvmlDeviceGetPowerUsage", real)
    release.set()
    wait_until(lambda: "hw.power" in metrics.collect(), 5, "GPU metrics to resume")


def test_extra_and_process_metrics(nvml, metrics, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_GPU_EXTRA_METRICS", "true")
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_GPU_PROCESS_MEMORY", "true")
    fake_pynvml.STATE["gpus"][0].processes = [(os.getpid(), 3 * 1024**3), (1, 5 * 1024**3)]
    GPUInstrumentor().instrument(meter_provider=metrics.provider)
    found = metrics.collect()
    h = gpu_attrs(H100, 0)
    clocks = points(found["nvml.gpu.clock.frequency"])
    assert clocks[frozenset({**h, "nvml.clock.type": "sm"}.items())] == 1980e6
    assert found["nvml.gpu.clock.frequency"].unit == "Hz"
    pcie = points(found["nvml.gpu.pcie.throughput"])
    assert pcie[frozenset({**h, "network.io.direction": "receive"}.items())] == 2000 * 1024
    process = points(found["nvml.gpu.process.memory.usage"])
    assert process[frozenset({**h, "process.pid": os.getpid()}.items())] == 3 * 1024**3


def test_off_by_default_extras_are_absent(nvml, metrics):
    GPUInstrumentor().instrument(meter_provider=metrics.provider)
    assert not [name for name in metrics.collect() if name.startswith("nvml.")]


@pytest.mark.parametrize(
    ("init_error", "reason"),
    [
        (fake_pynvml.NVML_ERROR_LIBRARY_NOT_FOUND, "NVML library was not found"),
        (fake_pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "driver is not loaded"),
        (fake_pynvml.NVML_ERROR_UNKNOWN, "NVML could not be initialised"),
    ],
)
def test_no_driver_or_library_registers_nothing_and_says_why_once(nvml, metrics, caplog, init_error, reason):
    fake_pynvml.configure([fresh(H100)], init_error=init_error)
    with caplog.at_level(logging.INFO, logger="opentelemetry_instrumentation_llm.gpu"):
        GPUInstrumentor().instrument(meter_provider=metrics.provider)
    assert metrics.collect() == {}
    lines = [r.getMessage() for r in caplog.records if r.name == "opentelemetry_instrumentation_llm.gpu"]
    assert len(lines) == 1 and reason in lines[0] and caplog.records[0].levelno == logging.INFO


def test_no_gpu(nvml, metrics, caplog):
    fake_pynvml.configure([])
    with caplog.at_level(logging.INFO, logger="opentelemetry_instrumentation_llm.gpu"):
        GPUInstrumentor().instrument(meter_provider=metrics.provider)
    assert metrics.collect() == {}
    assert "no NVIDIA GPU was found" in caplog.text
    assert fake_pynvml.CALLS["nvmlShutdown"] == 1  # initialised, nothing found, shut down again


def test_nvml_not_installed(monkeypatch, metrics, caplog):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError
    with caplog.at_level(logging.INFO, logger="opentelemetry_instrumentation_llm.gpu"):
        GPUInstrumentor().instrument(meter_provider=metrics.provider)
    GPUInstrumentor().uninstrument()
    assert metrics.collect() == {}
    assert "not installed" in caplog.text


def test_disabled_by_variable(nvml, metrics, monkeypatch):
    monkeypatch.setenv("OTEL_INSTRUMENTATION_LLM_GPU", "false")
    GPUInstrumentor().instrument(meter_provider=metrics.provider)
    assert metrics.collect() == {}
    assert fake_pynvml.CALLS["nvmlInit"] == 0


def test_uninstrument_shuts_nvml_down_once(nvml, metrics):
    instrumentor = GPUInstrumentor()
    instrumentor.instrument(meter_provider=metrics.provider)
    metrics.collect()
    instrumentor.uninstrument()
    assert fake_pynvml.CALLS["nvmlShutdown"] == 1
    assert fake_pynvml.STATE["initialised"] == 0
    assert all(not m.data.data_points for m in metrics.collect().values())


def test_loaded_through_the_entry_point_as_opentelemetry_instrument_does(nvml, metrics):
    (entry_point,) = importlib.metadata.entry_points(group="opentelemetry_instrumentor", name="llm_gpu")
    instrumentor = entry_point.load()()
    assert isinstance(instrumentor, GPUInstrumentor)
    instrumentor.instrument(meter_provider=metrics.provider, skip_dep_check=True)
    assert "hw.power" in metrics.collect()


def test_setup_starts_the_gauges(nvml, monkeypatch):
    from opentelemetry_instrumentation_llm import setup

    for name in ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"):
        monkeypatch.setenv(name, "none")
    reader = InMemoryMetricReader()
    handle = setup("gpu-test", set_global=False, instrument=False, metric_readers=[reader])
    try:
        assert handle.gpu
        data = reader.get_metrics_data()
        names = {m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
        assert "hw.gpu.utilization" in names
    finally:
        handle.shutdown()
    assert fake_pynvml.CALLS["nvmlShutdown"] == 1


def _real_gpu_present() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return bool(pynvml.nvmlDeviceGetCount())
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - any failure means: no usable GPU here
        return False


@pytest.mark.skipif(not _real_gpu_present(), reason="no NVIDIA GPU with a working NVML driver on this machine")
def test_real_nvml(metrics):
    GPUInstrumentor().instrument(meter_provider=metrics.provider)
    try:
        found = metrics.collect()
        assert {"hw.gpu.utilization", "hw.gpu.memory.usage", "hw.gpu.memory.limit", "hw.power"} <= set(found)
        for point in found["hw.gpu.memory.limit"].data.data_points:
            assert point.value > 0 and point.attributes["hw.id"].startswith("GPU-")
        for point in found["hw.gpu.utilization"].data.data_points:
            assert 0.0 <= point.value <= 1.0
    finally:
        GPUInstrumentor().uninstrument()
