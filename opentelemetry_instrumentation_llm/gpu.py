"""NVIDIA GPU gauges, read through NVML, following the OpenTelemetry ``hw.*`` conventions.

One NVML read per collection: the first instrument callback of a collection reads every field of
every device into a snapshot, and the other callbacks of that collection use it. A collection is
recognised without timers: each instrument marks the snapshot it used, and an instrument asking
again means a new collection has begun (a maximum age guards against a reader that only ever
asks for some instruments).

Metrics (SEMCONV §5 and the team's NVML mapping):

=============================  =======================  ======  =================================
``hw.gpu.utilization``         observable gauge         ``1``   ``hw.gpu.task`` general/encoder/decoder
``hw.gpu.memory.usage``        observable up-down ctr   ``By``
``hw.gpu.memory.limit``        observable up-down ctr   ``By``
``hw.gpu.memory.utilization``  observable gauge         ``1``   used / total
``hw.power``                   observable gauge         ``W``   ``hw.type=gpu``
``hw.energy``                  observable counter       ``J``   ``hw.type=gpu``, since driver load
``hw.temperature``             observable gauge         ``Cel`` a sensor component whose ``hw.parent`` is the GPU
``hw.errors``                  observable counter       ``{error}`` ECC; ``hw.type=gpu``, ``error.type``
=============================  =======================  ======  =================================

GPU attributes: ``hw.id`` (the UUID), ``hw.name`` (``GPU <index>``), ``hw.vendor`` (``NVIDIA``),
``hw.model``, ``hw.driver_version``, ``hw.firmware_version`` (VBIOS) and ``hw.serial_number``
where the device reports them, and ``nvml.gpu.index``. Our own namespace ``nvml.*`` (off by
default) adds ``nvml.gpu.clock.frequency`` (Hz; graphics/sm/memory), ``nvml.gpu.pcie.throughput``
(By/s; transmit/receive) and ``nvml.gpu.process.memory.usage`` (By; this process).
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.metrics import CallbackOptions, Observation, get_meter

from opentelemetry_instrumentation_llm import config, semconv as sc
from opentelemetry_instrumentation_llm.version import __version__

_logger = logging.getLogger(__name__)

# Names (hw.* from SEMCONV §5; nvml.* is our own namespace for what the conventions lack).
HW_ID, HW_NAME, HW_PARENT, HW_TYPE = "hw.id", "hw.name", "hw.parent", "hw.type"
HW_VENDOR, HW_MODEL, HW_DRIVER, HW_FIRMWARE, HW_SERIAL = (
    "hw.vendor",
    "hw.model",
    "hw.driver_version",
    "hw.firmware_version",
    "hw.serial_number",
)
HW_GPU_TASK, HW_SENSOR_LOCATION, ERROR_TYPE = "hw.gpu.task", "hw.sensor_location", "error.type"
NVML_INDEX, NVML_CLOCK_TYPE, NETWORK_IO_DIRECTION, PROCESS_PID = (
    "nvml.gpu.index",
    "nvml.clock.type",
    "network.io.direction",
    "process.pid",
)

_MAX_SNAPSHOT_AGE = 10.0  # seconds; a snapshot older than this is never reused
# A GPU that has fallen off the bus (Xid 79) can hang NVML calls for minutes. Reads wait this long
# at most, so that neither the metric reader's thread nor shutdown (and so interpreter exit) hangs.
_READ_DEADLINE = 2.0  # seconds
_STOP_WAIT = 0.5  # seconds stop() waits for a read in progress before leaving NVML as it is


@dataclass
class _Device:
    """Static facts about one GPU, and what it turned out not to support."""

    index: int
    handle: Any
    attributes: dict[str, Any]
    sensor_attributes: dict[str, Any]
    unsupported: set[str] = field(default_factory=set)


@dataclass
class _Reading:
    device: _Device
    values: dict[str, Any]


_Extract = Callable[[_Reading], Iterable[tuple[float, dict[str, Any]]]]
"""Turns one device's reading into (value, attributes) observations."""


class NvmlReader:
    """NVML access: initialised once, read all-at-once, shut down once. Never raises to callers."""

    def __init__(self, nvml: Any, *, extra_metrics: bool = False, process_memory: bool = False) -> None:
        self.nvml = nvml
        self.extra_metrics = extra_metrics
        self.process_memory = process_memory
        self.devices: list[_Device] = []
        self._initialised = False
        self._lock = threading.Lock()

    def start(self) -> str | None:
        """Initialise NVML and describe the devices; returns why not, when there is nothing to read."""
        nvml = self.nvml
        try:
            nvml.nvmlInit()
        except nvml.NVMLError_LibraryNotFound:
            return "the NVML library was not found (no NVIDIA driver installed)"
        except nvml.NVMLError_DriverNotLoaded:
            return "the NVIDIA driver is not loaded"
        except nvml.NVMLError as exc:
            return f"NVML could not be initialised ({exc})"
        self._initialised = True
        try:
            count = nvml.nvmlDeviceGetCount()
            driver = _text(self._optional(nvml.nvmlSystemGetDriverVersion))
            for index in range(count):
                try:
                    self.devices.append(self._describe(index, driver))
                except nvml.NVMLError as exc:
                    _logger.info("GPU %d skipped: %s", index, exc)
        except nvml.NVMLError as exc:
            self.stop()
            return f"NVML could not list devices ({exc})"
        if not self.devices:
            self.stop()
            return "no NVIDIA GPU was found"
        return None

    def _optional(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except self.nvml.NVMLError:
            return None

    def _describe(self, index: int, driver: str | None) -> _Device:
        nvml = self.nvml
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        uuid = _text(nvml.nvmlDeviceGetUUID(handle))
        model = _text(self._optional(nvml.nvmlDeviceGetName, handle))
        attributes: dict[str, Any] = {HW_ID: uuid, HW_NAME: f"GPU {index}", HW_VENDOR: "NVIDIA", NVML_INDEX: index}
        for key, value in (
            (HW_MODEL, model),
            (HW_DRIVER, driver),
            (HW_FIRMWARE, _text(self._optional(nvml.nvmlDeviceGetVbiosVersion, handle))),
            (HW_SERIAL, _text(self._optional(nvml.nvmlDeviceGetSerial, handle))),
        ):
            if value:
                attributes[key] = value
        sensor = {
            HW_ID: f"{uuid}/temperature",
            HW_NAME: f"GPU {index} temperature",
            HW_PARENT: uuid,
            HW_SENSOR_LOCATION: "gpu",
            NVML_INDEX: index,
        }
        return _Device(index, handle, attributes, sensor)

    def read_all(self) -> list[_Reading]:
        """Every field of every device, once. A device that fails is left out of this snapshot only."""
        with self._lock:
            if not self._initialised:
                return []
            readings = []
            for device in self.devices:
                try:
                    if device.handle is None:  # lost earlier: acquire it again
                        device.handle = self.nvml.nvmlDeviceGetHandleByIndex(device.index)
                    readings.append(_Reading(device, self._read_device(device)))
                except self.nvml.NVMLError as exc:
                    device.handle = None
                    _logger.debug("GPU %d skipped this collection: %s", device.index, exc)
                except Exception:
                    _logger.debug("GPU %d skipped this collection", device.index, exc_info=True)
            return readings

    def _field(self, device: _Device, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """One field; NotSupported/NoPermission mark it unsupported on this device for good."""
        if name in device.unsupported:
            return None
        nvml = self.nvml
        try:
            return fn(device.handle, *args)
        except (nvml.NVMLError_NotSupported, nvml.NVMLError_NoPermission, nvml.NVMLError_FunctionNotFound):
            device.unsupported.add(name)
            _logger.debug("GPU %d does not report %s", device.index, name)
            return None

    def _read_device(self, device: _Device) -> dict[str, Any]:
        nvml, values = self.nvml, {}
        utilization = self._field(device, "utilization", nvml.nvmlDeviceGetUtilizationRates)
        if utilization is not None:
            values["util.general"] = utilization.gpu / 100.0
        for task, fn in (
            ("encoder", nvml.nvmlDeviceGetEncoderUtilization),
            ("decoder", nvml.nvmlDeviceGetDecoderUtilization),
        ):
            sample = self._field(device, task, fn)
            if sample is not None:
                values[f"util.{task}"] = sample[0] / 100.0
        memory = self._field(device, "memory", nvml.nvmlDeviceGetMemoryInfo)
        if memory is not None:
            values["memory.used"], values["memory.total"] = int(memory.used), int(memory.total)
        power = self._field(device, "power", nvml.nvmlDeviceGetPowerUsage)
        if power is not None:
            values["power"] = power / 1000.0
        energy = self._field(device, "energy", nvml.nvmlDeviceGetTotalEnergyConsumption)
        if energy is not None:
            values["energy"] = energy / 1000.0
        temperature = self._field(device, "temperature", nvml.nvmlDeviceGetTemperature, nvml.NVML_TEMPERATURE_GPU)
        if temperature is not None:
            values["temperature"] = float(temperature)
        for kind, error_type in (
            ("corrected", nvml.NVML_MEMORY_ERROR_TYPE_CORRECTED),
            ("uncorrected", nvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED),
        ):
            count = self._field(
                device, f"ecc.{kind}", nvml.nvmlDeviceGetTotalEccErrors, error_type, nvml.NVML_VOLATILE_ECC
            )
            if count is not None:
                values[f"ecc.{kind}"] = int(count)
        if self.extra_metrics:
            self._read_extras(device, values)
        if self.process_memory:
            self._read_process_memory(device, values)
        return values

    def _read_extras(self, device: _Device, values: dict[str, Any]) -> None:
        """Clocks and PCIe throughput, which the conventions lack (opt-in)."""
        nvml = self.nvml
        for kind, clock in (
            ("graphics", nvml.NVML_CLOCK_GRAPHICS),
            ("sm", nvml.NVML_CLOCK_SM),
            ("memory", nvml.NVML_CLOCK_MEM),
        ):
            mhz = self._field(device, f"clock.{kind}", nvml.nvmlDeviceGetClockInfo, clock)
            if mhz is not None:
                values[f"clock.{kind}"] = mhz * 1_000_000.0
        for direction, counter in (
            ("transmit", nvml.NVML_PCIE_UTIL_TX_BYTES),
            ("receive", nvml.NVML_PCIE_UTIL_RX_BYTES),
        ):
            kbps = self._field(device, f"pcie.{direction}", nvml.nvmlDeviceGetPcieThroughput, counter)
            if kbps is not None:
                values[f"pcie.{direction}"] = kbps * 1024.0

    def _read_process_memory(self, device: _Device, values: dict[str, Any]) -> None:
        processes = self._field(device, "processes", self.nvml.nvmlDeviceGetComputeRunningProcesses)
        if processes is not None:
            pid = os.getpid()
            used = [p.usedGpuMemory for p in processes if p.pid == pid and p.usedGpuMemory is not None]
            values["process.memory"] = int(sum(used))

    def stop(self) -> None:
        """Shut NVML down, unless a read is hung in the driver: then leave it (the process is
        usually exiting, and nvmlShutdown beside a hung call is not safe); later reads return nothing."""
        if not self._lock.acquire(timeout=_STOP_WAIT):
            self._initialised = False
            _logger.debug("NVML left initialised: a read is still in progress")
            return
        try:
            if self._initialised:
                self._initialised = False
                try:
                    self.nvml.nvmlShutdown()
                except Exception:
                    _logger.debug("nvmlShutdown failed", exc_info=True)
        finally:
            self._lock.release()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class _Snapshots:
    """At most one NVML read per collection, shared by every instrument's callback."""

    def __init__(
        self, reader: NvmlReader, clock: Callable[[], float] = time.monotonic, deadline: float | None = None
    ) -> None:
        self._reader = reader
        self._clock = clock
        self._deadline = _READ_DEADLINE if deadline is None else deadline
        self._lock = threading.Lock()
        self._readings: list[_Reading] = []
        self._consumed: set[str] = set()
        self._taken = float("-inf")
        self._hung: threading.Thread | None = None
        self.reads = 0

    def get(self, instrument: str) -> list[_Reading]:
        with self._lock:
            now = self._clock()
            if instrument in self._consumed or now - self._taken > _MAX_SNAPSHOT_AGE:
                self._readings = self._read_with_deadline()
                self._consumed = set()
                self._taken = now
                self.reads += 1
            self._consumed.add(instrument)
            return self._readings

    def _read_with_deadline(self) -> list[_Reading]:
        """``read_all`` in a daemon thread, waited for ``deadline`` seconds at most. While a read is
        hung no other is started, and collections report no GPU values (not stale ones)."""
        if self._hung is not None:
            if self._hung.is_alive():
                return []
            self._hung = None
            _logger.info("NVML answers again; GPU metrics resume")
        box: list[list[_Reading]] = []
        thread = threading.Thread(target=lambda: box.append(self._reader.read_all()), name="otel-llm-nvml", daemon=True)
        thread.start()
        thread.join(self._deadline)
        if thread.is_alive():
            self._hung = thread
            _logger.warning(
                "An NVML read has not returned within %.1f s (a GPU in trouble?); GPU metrics skipped until it does",
                self._deadline,
            )
            return []
        return box[0] if box else []


def _observe(snapshots: _Snapshots, name: str, extract: _Extract) -> Callable[[CallbackOptions], Iterator[Observation]]:
    def callback(options: CallbackOptions) -> Iterator[Observation]:
        try:
            readings = snapshots.get(name)
            observations = [Observation(value, attributes) for r in readings for value, attributes in extract(r)]
        except Exception:
            _logger.debug("GPU callback %s failed", name, exc_info=True)
            return iter(())
        return iter(observations)

    return callback


def _value(key: str, extra: dict[str, Any] | None = None, sensor: bool = False) -> _Extract:
    def extract(reading: _Reading) -> Iterable[tuple[float, dict[str, Any]]]:
        value = reading.values.get(key)
        if value is None:
            return ()
        base = reading.device.sensor_attributes if sensor else reading.device.attributes
        return ((value, {**base, **extra} if extra else base),)

    return extract


def _many(*extractors: _Extract) -> _Extract:
    def extract(reading: _Reading) -> Iterable[tuple[float, dict[str, Any]]]:
        for extractor in extractors:
            yield from extractor(reading)

    return extract


def _memory_utilization(reading: _Reading) -> Iterable[tuple[float, dict[str, Any]]]:
    used, total = reading.values.get("memory.used"), reading.values.get("memory.total")
    if used is None or not total:
        return ()
    return ((used / total, reading.device.attributes),)


@dataclass(frozen=True)
class _Metric:
    """One observable instrument; ``kind`` picks the meter's ``create_observable_<kind>``."""

    name: str
    kind: str
    unit: str
    extract: _Extract
    description: str


_GPU = {HW_TYPE: "gpu"}
_GPU_TASKS = _many(*(_value(f"util.{task}", {HW_GPU_TASK: task}) for task in ("general", "encoder", "decoder")))
_ECC_ERRORS = _many(*(_value(f"ecc.{kind}", {**_GPU, ERROR_TYPE: kind}) for kind in ("corrected", "uncorrected")))
_CLOCKS = _many(*(_value(f"clock.{kind}", {NVML_CLOCK_TYPE: kind}) for kind in ("graphics", "sm", "memory")))
_PCIE = _many(*(_value(f"pcie.{way}", {NETWORK_IO_DIRECTION: way}) for way in ("transmit", "receive")))
_SINCE_LOAD = "since the driver was loaded."
_NOT_SEMCONV = "not part of the semantic conventions"

_HW_METRICS = (
    _Metric("hw.gpu.utilization", "gauge", "1", _GPU_TASKS, "Fraction of time the GPU was busy, by task."),
    _Metric("hw.gpu.memory.usage", "up_down_counter", "By", _value("memory.used"), "GPU memory used."),
    _Metric("hw.gpu.memory.limit", "up_down_counter", "By", _value("memory.total"), "GPU memory available."),
    _Metric("hw.gpu.memory.utilization", "gauge", "1", _memory_utilization, "Fraction of GPU memory used."),
    _Metric("hw.power", "gauge", "W", _value("power", _GPU), "Instantaneous GPU power draw."),
    _Metric("hw.energy", "counter", "J", _value("energy", _GPU), f"Energy consumed by the GPU {_SINCE_LOAD}"),
    _Metric("hw.temperature", "gauge", "Cel", _value("temperature", sensor=True), "GPU core temperature."),
    _Metric("hw.errors", "counter", "{error}", _ECC_ERRORS, f"ECC memory errors {_SINCE_LOAD}"),
)
_NVML_EXTRA_METRICS = (
    _Metric("nvml.gpu.clock.frequency", "gauge", "Hz", _CLOCKS, f"GPU clock frequency (NVML; {_NOT_SEMCONV})."),
    _Metric("nvml.gpu.pcie.throughput", "gauge", "By/s", _PCIE, f"PCIe throughput sampled by NVML ({_NOT_SEMCONV})."),
)


def _process_memory_metrics() -> tuple[_Metric, ...]:
    """Built at registration, so that the ``process.pid`` is the registering process's."""
    this_process = _value("process.memory", {PROCESS_PID: os.getpid()})
    description = f"GPU memory used by this process (NVML; {_NOT_SEMCONV})."
    return (_Metric("nvml.gpu.process.memory.usage", "gauge", "By", this_process, description),)


def _import_nvml() -> Any:
    """The ``pynvml`` module (NVIDIA's ``nvidia-ml-py``); the deprecated ``pynvml`` redirector
    package warns on import, which is not the user's concern here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return importlib.import_module("pynvml")


class GPUInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Registers NVML GPU gauges on a meter provider (``instrument(meter_provider=...)``).

    ``OTEL_INSTRUMENTATION_LLM_GPU=false`` turns it off. Without a GPU, a driver or the NVML
    library, nothing is registered and one info line says why. ``extra_metrics`` /
    ``process_memory`` (or their variables) add the ``nvml.*`` metrics.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        self._reader: NvmlReader | None = None
        if config.GPU.read() is False and not kwargs.get("force"):
            _logger.info("GPU metrics are off (OTEL_INSTRUMENTATION_LLM_GPU=false)")
            return
        try:
            nvml = _import_nvml()
        except ImportError:
            _logger.info("GPU metrics not registered: pynvml (nvidia-ml-py) is not installed")
            return
        extra = kwargs.get("extra_metrics")
        process = kwargs.get("process_memory")
        reader = NvmlReader(
            nvml,
            extra_metrics=bool(config.GPU_EXTRA_METRICS.read()) if extra is None else bool(extra),
            process_memory=bool(config.GPU_PROCESS_MEMORY.read()) if process is None else bool(process),
        )
        try:
            why_not = reader.start()
        except Exception as exc:  # noqa: BLE001 - an odd NVML must not stop the application
            why_not = f"NVML failed ({exc})"
        if why_not is not None:
            _logger.info("GPU metrics not registered: %s", why_not)
            return
        self._reader = reader
        self._snapshots = _Snapshots(reader)
        self._register(
            get_meter(
                "opentelemetry_instrumentation_llm.gpu",
                __version__,
                kwargs.get("meter_provider"),
                schema_url=sc.HW_SCHEMA_URL,
            ),
            reader,
        )
        atexit.register(reader.stop)
        _logger.info("GPU metrics registered for %d GPU(s)", len(reader.devices))

    def _register(self, meter: Any, reader: NvmlReader) -> None:
        metrics = list(_HW_METRICS)
        if reader.extra_metrics:
            metrics += _NVML_EXTRA_METRICS
        if reader.process_memory:
            metrics += _process_memory_metrics()
        for metric in metrics:
            create = getattr(meter, f"create_observable_{metric.kind}")
            callback = _observe(self._snapshots, metric.name, metric.extract)
            create(metric.name, [callback], unit=metric.unit, description=metric.description)

    def _uninstrument(self, **kwargs: Any) -> None:
        # Observable instruments cannot be removed from a meter; once NVML is shut down their
        # callbacks report nothing.
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.stop()
            self._reader = None
