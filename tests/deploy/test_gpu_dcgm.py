"""deploy/prometheus/gpu-dcgm.yaml: dcgm-exporter's DCGM_FI_* fields as the hw_* series that the
GPU dashboard and alerts read (promtool unit tests), and a broken mapping is caught."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY

PROMETHEUS = DEPLOY / "prometheus"


def promtool_run(promtool: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_the_rules_are_valid_and_their_unit_tests_pass(promtool):
    checked = promtool_run(promtool, "check", "rules", "gpu-dcgm.yaml", cwd=PROMETHEUS)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool_run(promtool, "test", "rules", "gpu-dcgm.test.yaml", cwd=PROMETHEUS)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_series_the_gpu_dashboard_and_alerts_read_is_recorded():
    text = (PROMETHEUS / "gpu-dcgm.yaml").read_text()
    for series in (
        "hw_gpu_utilization_ratio",
        "hw_gpu_memory_usage_bytes",
        "hw_gpu_memory_limit_bytes",
        "hw_temperature_celsius",
        "hw_power_watts",
        "hw_energy_joules_total",
    ):
        assert f"- record: {series}\n" in text


@pytest.mark.parametrize(
    ("original", "broken"),
    [
        ("DCGM_FI_DEV_GPU_UTIL / 100", "DCGM_FI_DEV_GPU_UTIL"),  # percent left as a ratio
        ('"hw_parent", "$1", "UUID"', '"hw_parent", "$1", "gpu"'),  # temperature tied to the wrong GPU id
        ('unless on (hw_parent) hw_temperature_celsius{source!="dcgm", hw_sensor_location="gpu"}', ""),  # twice
    ],
)
def test_a_broken_mapping_fails_the_unit_tests(promtool, tmp_path, original, broken):
    for name in ("gpu-dcgm.test.yaml", "alerts.yaml"):
        shutil.copy(PROMETHEUS / name, tmp_path / name)
    text = (PROMETHEUS / "gpu-dcgm.yaml").read_text()
    assert original in text
    (tmp_path / "gpu-dcgm.yaml").write_text(text.replace(original, broken))
    tested = promtool_run(promtool, "test", "rules", "gpu-dcgm.test.yaml", cwd=tmp_path)
    assert tested.returncode != 0, tested.stdout
