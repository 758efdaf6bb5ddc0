"""Running an app under ``opentelemetry-instrument`` as a user would: a fresh process, a clean
environment (nothing inherited from the test run's ``OTEL_*`` or provider keys), our distro."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LAUNCHER = Path(sys.executable).parent / "opentelemetry-instrument"
# Inherited settings that would change what the app does or where it reports.
CLEARED = ("OTEL_", "OPENAI_", "ANTHROPIC_", "AWS_", "LANGSMITH_", "LANGCHAIN_")


def launch(app: Path, env: Mapping[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``app`` (in its own folder) under the launcher with ``env`` over a clean environment;
    fails the test, showing stderr, if the app exits non-zero."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}
    clean.update(env)
    result = subprocess.run(
        [str(LAUNCHER), sys.executable, str(app)],
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=app.parent,
    )
    assert result.returncode == 0, result.stderr
    return result


def to_collector(endpoint: str) -> dict[str, str]:
    """Our distro, OTLP/gRPC to ``endpoint``, with short batch and metric intervals for tests."""
    return {
        "OTEL_PYTHON_DISTRO": "llm",
        "OTEL_PYTHON_CONFIGURATOR": "llm",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_METRIC_EXPORT_INTERVAL": "500",
    }


def ours(spans: list[Any]) -> list[Any]:
    return [s for s in spans if s.scope.startswith("opentelemetry_instrumentation_llm.")]


def trace_of(spans: list[Any], root_name: str) -> list[Any]:
    """Our spans in the trace whose root is named ``root_name`` (empty until that root arrives)."""
    mine = ours(spans)
    roots = [s for s in mine if s.name == root_name]
    return [s for s in mine if roots and s.trace_id == roots[0].trace_id]
