"""Fixtures for the deploy/ tests: the real tools, the files, and the catalogue of metrics the
package really exports (names, units, instrument kinds, attributes), from which the Prometheus
names that dashboards and alerts may use are derived."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import Gauge, Histogram, InMemoryMetricReader, Sum

from tests.deploy import prom_names, tools
from tests.deploy.prom_names import Kind
from tests.e2e.collector import OTLPSink, ReceivedLog, ReceivedSpan, wait_until

REPO = tools.REPO
DEPLOY = REPO / "deploy"


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses duplicate keys (PyYAML keeps the last one silently)."""


def _mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
    duplicates = {k for k in keys if keys.count(k) > 1}
    if duplicates:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate keys {sorted(duplicates)}", node.start_mark)
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(path: Path) -> Any:
    with path.open() as f:
        return yaml.load(f, Loader=UniqueKeyLoader)  # a SafeLoader subclass


@pytest.fixture(scope="session")
def promtool() -> Path:
    try:
        return tools.promtool()
    except tools.Unavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    return load_yaml(DEPLOY / "compose.yaml")  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------ exported metrics
@dataclass(frozen=True)
class ExportedMetric:
    name: str
    unit: str
    kind: Kind
    attributes: frozenset[str]
    resource: frozenset[str] = frozenset()

    @property
    def labels(self) -> set[str]:
        labels = {prom_names.label_name(a) for a in self.attributes}
        labels |= {label for key, label in prom_names.RESOURCE_LABELS.items() if key in self.resource}
        return labels


# Attributes that the catalogue run cannot show because they appear only when something fails:
# the SDK's processor counters carry error.type=queue_full on dropped items (docs/configuration.md).
FAILURE_ONLY_ATTRIBUTES = {
    "otel.sdk.processor.span.processed": {"error.type"},
    "otel.sdk.processor.log.processed": {"error.type"},
}


@dataclass
class Catalog:
    """What the package exports, and the Prometheus series and labels that follow from it."""

    metrics: dict[str, ExportedMetric] = field(default_factory=dict)

    def add(self, metric: ExportedMetric) -> None:
        known = self.metrics.get(metric.name)
        if known is not None:
            metric = ExportedMetric(
                metric.name,
                metric.unit,
                metric.kind,
                known.attributes | metric.attributes,
                known.resource | metric.resource,
            )
        self.metrics[metric.name] = metric

    def series(self) -> dict[str, set[str]]:
        """Prometheus series name -> the labels it can have."""
        found: dict[str, set[str]] = {}
        for metric in self.metrics.values():
            extra = {prom_names.label_name(a) for a in FAILURE_ONLY_ATTRIBUTES.get(metric.name, ())}
            for series in prom_names.series_names(metric.name, metric.unit, metric.kind):
                found[series] = metric.labels | extra | ({"le"} if series.endswith("_bucket") else set())
        return found


def _kind_of_proto(metric: Any) -> Kind:
    data = metric.WhichOneof("data")
    if data == "histogram":
        return "histogram"
    if data == "sum":
        return "counter" if metric.sum.is_monotonic else "updown"
    if data == "gauge":
        return "gauge"
    raise AssertionError(f"unexpected OTLP metric type {data} for {metric.name}")


def _kind_of_sdk(data: Any) -> Kind:
    if isinstance(data, Histogram):
        return "histogram"
    if isinstance(data, Sum):
        return "counter" if data.is_monotonic else "updown"
    if isinstance(data, Gauge):
        return "gauge"
    raise AssertionError(f"unexpected SDK metric data {type(data).__name__}")


@dataclass
class DemoRun:
    """The compose demo's traffic generator, run once against an OTLP sink."""

    env: dict[str, str]
    stdout: str
    spans: list[ReceivedSpan]
    logs: list[ReceivedLog]
    metrics: dict[str, list[tuple[dict[str, Any], Any]]]


def demo_environment(compose: dict[str, Any], endpoint: str) -> dict[str, str]:
    """The llm-demo service's environment, pointed at ``endpoint`` and at the repository's files
    instead of the image's (/app/... is where the Dockerfile copies deploy/demo/...)."""
    env = {k: str(v) for k, v in compose["services"]["llm-demo"]["environment"].items()}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    for key, value in env.items():
        if value.startswith("/app/"):
            env[key] = str(DEPLOY / "demo" / value.removeprefix("/app/"))
    return env


@pytest.fixture(scope="session")
def demo_run(compose: dict[str, Any]) -> Iterator[DemoRun]:
    sink = OTLPSink().start()
    try:
        env = demo_environment(compose, f"http://127.0.0.1:{sink.port}")
        base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                str(DEPLOY / "demo" / "traffic.py"),
                "--iterations",
                "1",
                "--interval",
                "0",
                "--calls-per-tenant",
                "2",
                "--slow",
                "0.05",
                "--seed",
                "7",
                "--every-call-once",
            ],
            env={**base, **env},
            capture_output=True,
            text=True,
            timeout=180,
            cwd=REPO,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        # shutdown() flushed before the process exited; the sink may still be handling the last request
        wait_until(
            lambda: "gen_ai.client.operation.cost" in sink.metrics() and bool(sink.logs()), 10, "the demo's export"
        )
        assert time.monotonic() - started < 120
        yield DemoRun(env, done.stdout, sink.spans(), sink.logs(), sink.metrics())
    finally:
        sink.stop()


@pytest.fixture(scope="session")
def gpu_metrics() -> list[ExportedMetric]:
    """The GPU gauges of the real NVML code path over the fake pynvml of tests/fakes."""
    from opentelemetry_instrumentation_llm.gpu import GPUInstrumentor
    from tests.fakes import fake_pynvml
    from tests.fakes.fake_pynvml import FakeGPU

    gpu = FakeGPU(
        uuid="GPU-deploy-0000-0000-0000-000000000001",
        name="NVIDIA H100 80GB HBM3",
        utilization=50,
        encoder=3,
        decoder=4,
        memory_total=80 * 1024**3,
        memory_used=40 * 1024**3,
        power_mw=300_000,
        energy_mj=1_000_000,
        temperature=60,
        ecc_corrected=1,
        ecc_uncorrected=0,
    )
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    instrumentor = GPUInstrumentor()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "pynvml", fake_pynvml.as_module())
        fake_pynvml.configure([gpu])
        instrumentor.instrument(meter_provider=provider, extra_metrics=True, process_memory=True, force=True)
        try:
            data = reader.get_metrics_data()
        finally:
            instrumentor.uninstrument()
            provider.shutdown()
    found = []
    for rm in data.resource_metrics if data else ():
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                attributes = frozenset(k for p in m.data.data_points for k in (p.attributes or {}))
                # As exported by a service: service.name and service.instance.id become job and instance.
                found.append(
                    ExportedMetric(
                        m.name,
                        m.unit or "",
                        _kind_of_sdk(m.data),
                        attributes,
                        frozenset({"service.name", "service.instance.id"}),
                    )
                )
    assert {m.name for m in found} >= {"hw.gpu.utilization", "hw.temperature", "hw.gpu.memory.usage"}, found
    return found


@pytest.fixture(scope="session")
def agent_metrics() -> list[ExportedMetric]:
    """The agent, tool, workflow and MCP metrics: a hand-written loop (one tool failing) and an MCP
    tools/call on an in-process server, as tests/agents and tests/frameworks exercise them."""
    from tests.agents.exported import agent_and_mcp_metrics

    resource = frozenset({"service.name", "service.instance.id"})
    return [
        ExportedMetric(name, unit, _kind_of_sdk(data), attributes, resource)
        for name, unit, data, attributes in agent_and_mcp_metrics()
    ]


@pytest.fixture(scope="session")
def catalog(demo_run: DemoRun, gpu_metrics: list[ExportedMetric], agent_metrics: list[ExportedMetric]) -> Catalog:
    result = Catalog()
    for name, entries in demo_run.metrics.items():
        for resource, metric in entries:
            points = getattr(metric, metric.WhichOneof("data")).data_points
            attributes = frozenset(kv.key for p in points for kv in p.attributes)
            result.add(ExportedMetric(name, metric.unit, _kind_of_proto(metric), attributes, frozenset(resource)))
    for metric in [*gpu_metrics, *agent_metrics]:
        result.add(metric)
    return result
