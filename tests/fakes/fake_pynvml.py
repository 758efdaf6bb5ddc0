"""A fake ``pynvml`` module: the real module's function names, constants, error classes and
return shapes, over simulated GPUs. Tests install it as ``sys.modules["pynvml"]``, so the
package's real NVML code path runs against it.

Each function call is counted in ``CALLS`` (to prove one read per collection).
"""

from __future__ import annotations

import types
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# ----------------------------------------------------------------------------- constants (real values)
NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_UNKNOWN = 999

NVML_TEMPERATURE_GPU = 0
NVML_MEMORY_ERROR_TYPE_CORRECTED = 0
NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
NVML_VOLATILE_ECC = 0
NVML_AGGREGATE_ECC = 1
NVML_CLOCK_GRAPHICS = 0
NVML_CLOCK_SM = 1
NVML_CLOCK_MEM = 2
NVML_PCIE_UTIL_TX_BYTES = 0
NVML_PCIE_UTIL_RX_BYTES = 1


# ----------------------------------------------------------------------------- errors (same shape as pynvml)
class NVMLError(Exception):
    _valClassMapping: dict[int, type] = {}

    def __new__(cls, value: int) -> NVMLError:
        if cls is NVMLError:
            cls = NVMLError._valClassMapping.get(value, cls)
        obj = Exception.__new__(cls)
        obj.value = value  # type: ignore[attr-defined]
        return obj

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return _ERROR_STRINGS.get(self.value, f"NVML Error with code {self.value}")


def _error_class(name: str, value: int) -> type[NVMLError]:
    cls = type(name, (NVMLError,), {})
    NVMLError._valClassMapping[value] = cls
    return cls


NVMLError_Uninitialized = _error_class("NVMLError_Uninitialized", NVML_ERROR_UNINITIALIZED)
NVMLError_NotSupported = _error_class("NVMLError_NotSupported", NVML_ERROR_NOT_SUPPORTED)
NVMLError_NoPermission = _error_class("NVMLError_NoPermission", NVML_ERROR_NO_PERMISSION)
NVMLError_NotFound = _error_class("NVMLError_NotFound", NVML_ERROR_NOT_FOUND)
NVMLError_DriverNotLoaded = _error_class("NVMLError_DriverNotLoaded", NVML_ERROR_DRIVER_NOT_LOADED)
NVMLError_LibraryNotFound = _error_class("NVMLError_LibraryNotFound", NVML_ERROR_LIBRARY_NOT_FOUND)
NVMLError_FunctionNotFound = _error_class("NVMLError_FunctionNotFound", NVML_ERROR_FUNCTION_NOT_FOUND)
NVMLError_GpuIsLost = _error_class("NVMLError_GpuIsLost", NVML_ERROR_GPU_IS_LOST)
NVMLError_Unknown = _error_class("NVMLError_Unknown", NVML_ERROR_UNKNOWN)

_ERROR_STRINGS = {
    NVML_ERROR_NOT_SUPPORTED: "Not Supported",
    NVML_ERROR_GPU_IS_LOST: "GPU is lost",
    NVML_ERROR_LIBRARY_NOT_FOUND: "NVML Shared Library Not Found",
    NVML_ERROR_DRIVER_NOT_LOADED: "Driver Not Loaded",
    NVML_ERROR_UNINITIALIZED: "Uninitialized",
}


# ----------------------------------------------------------------------------- simulated hardware
@dataclass
class FakeGPU:
    uuid: str
    name: str
    utilization: int = 50  # %
    memory_bus: int = 20  # % (must NOT become hw.gpu.memory.utilization)
    encoder: int = 0
    decoder: int = 0
    memory_total: int = 80 * 1024**3
    memory_used: int = 20 * 1024**3
    power_mw: int = 300_000
    energy_mj: int = 5_000_000
    temperature: int = 55
    ecc_corrected: int = 3
    ecc_uncorrected: int = 0
    clocks_mhz: tuple[int, int, int] = (1980, 1980, 2619)
    pcie_kbps: tuple[int, int] = (1000, 2000)  # tx, rx
    vbios: str = "96.00.74.00.01"
    serial: str | None = "1650923000000"
    processes: list[tuple[int, int]] = field(default_factory=list)  # (pid, used bytes)
    unsupported: set[str] = field(default_factory=set)  # function names raising NotSupported
    lost: bool = False


@dataclass
class _Process:
    pid: int
    usedGpuMemory: int | None


class _Memory:
    def __init__(self, total: int, used: int) -> None:
        self.total, self.used, self.free = total, used, total - used


class _Utilization:
    def __init__(self, gpu: int, memory: int) -> None:
        self.gpu, self.memory = gpu, memory


STATE: dict[str, Any] = {"gpus": [], "init_error": None, "driver": "550.54.15", "initialised": 0}
CALLS: Counter[str] = Counter()


def configure(gpus: list[FakeGPU], *, init_error: int | None = None, driver: str = "550.54.15") -> None:
    STATE.update(gpus=gpus, init_error=init_error, driver=driver, initialised=0)
    CALLS.clear()


def _gpu(handle: int, function: str) -> FakeGPU:
    CALLS[function] += 1
    if not STATE["initialised"]:
        raise NVMLError(NVML_ERROR_UNINITIALIZED)
    gpu = STATE["gpus"][handle]
    if gpu.lost:
        raise NVMLError(NVML_ERROR_GPU_IS_LOST)
    if function in gpu.unsupported:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return gpu


# ----------------------------------------------------------------------------- the API
def nvmlInit() -> None:
    CALLS["nvmlInit"] += 1
    if STATE["init_error"] is not None:
        raise NVMLError(STATE["init_error"])
    STATE["initialised"] += 1


def nvmlShutdown() -> None:
    CALLS["nvmlShutdown"] += 1
    STATE["initialised"] = max(0, STATE["initialised"] - 1)


def nvmlSystemGetDriverVersion() -> str:
    CALLS["nvmlSystemGetDriverVersion"] += 1
    return str(STATE["driver"])


def nvmlDeviceGetCount() -> int:
    CALLS["nvmlDeviceGetCount"] += 1
    return len(STATE["gpus"])


def nvmlDeviceGetHandleByIndex(index: int) -> int:
    _gpu(index, "nvmlDeviceGetHandleByIndex")
    return index


def nvmlDeviceGetUUID(handle: int) -> str:
    return _gpu(handle, "nvmlDeviceGetUUID").uuid


def nvmlDeviceGetName(handle: int) -> str:
    return _gpu(handle, "nvmlDeviceGetName").name


def nvmlDeviceGetVbiosVersion(handle: int) -> str:
    return _gpu(handle, "nvmlDeviceGetVbiosVersion").vbios


def nvmlDeviceGetSerial(handle: int) -> str:
    gpu = _gpu(handle, "nvmlDeviceGetSerial")
    if gpu.serial is None:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return gpu.serial


def nvmlDeviceGetUtilizationRates(handle: int) -> _Utilization:
    gpu = _gpu(handle, "nvmlDeviceGetUtilizationRates")
    return _Utilization(gpu.utilization, gpu.memory_bus)


def nvmlDeviceGetEncoderUtilization(handle: int) -> list[int]:
    return [_gpu(handle, "nvmlDeviceGetEncoderUtilization").encoder, 167000]


def nvmlDeviceGetDecoderUtilization(handle: int) -> list[int]:
    return [_gpu(handle, "nvmlDeviceGetDecoderUtilization").decoder, 167000]


def nvmlDeviceGetMemoryInfo(handle: int) -> _Memory:
    gpu = _gpu(handle, "nvmlDeviceGetMemoryInfo")
    return _Memory(gpu.memory_total, gpu.memory_used)


def nvmlDeviceGetPowerUsage(handle: int) -> int:
    return _gpu(handle, "nvmlDeviceGetPowerUsage").power_mw


def nvmlDeviceGetTotalEnergyConsumption(handle: int) -> int:
    return _gpu(handle, "nvmlDeviceGetTotalEnergyConsumption").energy_mj


def nvmlDeviceGetTemperature(handle: int, sensor: int) -> int:
    assert sensor == NVML_TEMPERATURE_GPU
    return _gpu(handle, "nvmlDeviceGetTemperature").temperature


def nvmlDeviceGetTotalEccErrors(handle: int, error_type: int, counter_type: int) -> int:
    gpu = _gpu(handle, "nvmlDeviceGetTotalEccErrors")
    assert counter_type in (NVML_VOLATILE_ECC, NVML_AGGREGATE_ECC)
    return gpu.ecc_corrected if error_type == NVML_MEMORY_ERROR_TYPE_CORRECTED else gpu.ecc_uncorrected


def nvmlDeviceGetClockInfo(handle: int, clock: int) -> int:
    return _gpu(handle, "nvmlDeviceGetClockInfo").clocks_mhz[clock]


def nvmlDeviceGetPcieThroughput(handle: int, counter: int) -> int:
    return _gpu(handle, "nvmlDeviceGetPcieThroughput").pcie_kbps[counter]


def nvmlDeviceGetComputeRunningProcesses(handle: int) -> list[_Process]:
    return [_Process(pid, used) for pid, used in _gpu(handle, "nvmlDeviceGetComputeRunningProcesses").processes]


def as_module() -> types.ModuleType:
    """This file as the module object to put in ``sys.modules["pynvml"]``."""
    import sys

    return sys.modules[__name__]
