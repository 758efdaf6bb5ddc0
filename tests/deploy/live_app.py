"""The demo traffic generator over fake GPUs, for the live-stack tests (run as a script).

    python tests/deploy/live_app.py <traffic.py arguments>

Installs the fake ``pynvml`` of tests/fakes with one cool GPU and one at 90 °C (hot enough for
GPUTemperatureHigh), then runs deploy/demo/traffic.py unchanged: setup() from the environment,
real SDKs, the embedded fake provider.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.fakes import fake_pynvml  # noqa: E402 - after the path is set
from tests.fakes.fake_pynvml import FakeGPU  # noqa: E402

GPUS = [
    FakeGPU(
        uuid="GPU-live-0000-0000-0000-000000000000",
        name="NVIDIA H100 80GB HBM3",
        utilization=40,
        memory_used=30 * 1024**3,
        temperature=60,
    ),
    FakeGPU(
        uuid="GPU-live-0000-0000-0000-000000000001",
        name="NVIDIA H100 80GB HBM3",
        utilization=95,
        memory_used=70 * 1024**3,
        temperature=90,
    ),
]

if __name__ == "__main__":
    sys.modules["pynvml"] = fake_pynvml.as_module()
    fake_pynvml.configure(GPUS)
    sys.argv = [str(REPO / "deploy" / "demo" / "traffic.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
